import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeQuotedPrintable, plainText } from './mime.ts';

const LINK = 'http://localhost:4321/verify-email?token=AbC_dEf-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH';

describe('test MIME reader', () => {
  it('joins quoted-printable soft line breaks and decodes =XX (also UTF-8 sequences)', () => {
    assert.equal(decodeQuotedPrintable('http://localhost:4321/verify-email?token=3DAbC=\r\n_dEf').toString('utf8'), 'http://localhost:4321/verify-email?token=AbC_dEf');
    assert.equal(decodeQuotedPrintable('caf=C3=A9 =E2=80=94 ok').toString('utf8'), 'café — ok');
  });

  it('finds and decodes the text/plain part of a nested multipart message', () => {
    const encoded = `Open:\r\n${LINK.replace('=', '=3D').replace(/(.{60})/, '$1=\r\n')}\r\n`;
    const raw = [
      'From: Gatehouse <no-reply@localhost>',
      'Content-Type: multipart/mixed;',
      ' boundary="--outer"',
      '',
      '----outer',
      'Content-Type: multipart/alternative; boundary=inner',
      '',
      '--inner',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      encoded,
      '--inner',
      'Content-Type: text/html; charset=utf-8',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from('<p>html</p>').toString('base64'),
      '--inner--',
      '----outer--',
      '',
    ].join('\r\n');
    const text = plainText(raw);
    assert.ok(text.includes(LINK), text);
  });

  it('reads a single-part base64 message', () => {
    const raw = `Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n${Buffer.from(`go to ${LINK}`).toString('base64').replace(/(.{20})/g, '$1\r\n')}`;
    assert.equal(plainText(raw), `go to ${LINK}`);
  });
});

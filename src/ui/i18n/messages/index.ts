import type { Locale } from '../locales.ts';
import type { Message } from '../catalog.ts';
import { common } from './common.ts';
import { signIn } from './sign-in.ts';
import { account } from './account.ts';
import { mfa } from './mfa.ts';
import { oauth } from './oauth.ts';
import { mail } from './mail.ts';
import { admin } from './admin.ts';
import { errors } from './errors.ts';
import { selfService } from './self-service.ts';

/** Every namespace, one file each; keys carry their namespace as a prefix ("signIn.title"). */
export const NAMESPACES = { common, signIn, account, mfa, oauth, mail, admin, errors, selfService } as const;

type Namespaces = typeof NAMESPACES;
type KeysOf<N> = N extends { en: infer E } ? keyof E & string : never;
/** Every message key: the union of the English keys of all namespaces. */
export type MessageKey = { [N in keyof Namespaces]: KeysOf<Namespaces[N]> }[keyof Namespaces];

function merge(locale: Locale): ReadonlyMap<string, Message> {
  const map = new Map<string, Message>();
  for (const namespace of Object.values(NAMESPACES)) {
    for (const [key, message] of Object.entries(namespace[locale])) map.set(key, message as Message);
  }
  return map;
}

export const CATALOGS: Readonly<Record<Locale, ReadonlyMap<string, Message>>> = {
  en: merge('en'),
  de: merge('de'),
  fr: merge('fr'),
  es: merge('es'),
};

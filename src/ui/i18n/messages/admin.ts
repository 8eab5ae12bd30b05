import { defineMessages } from '../catalog.ts';
import { audit } from './admin/audit.ts';
import { clients } from './admin/clients.ts';
import { core } from './admin/core.ts';
import { users } from './admin/users.ts';

/** Namespace 'admin.*': the admin console (src/features/admin/console/), one file per console area under admin/. */
export const admin = defineMessages({
  en: { ...core.en, ...users.en, ...clients.en, ...audit.en },
  de: { ...core.de, ...users.de, ...clients.de, ...audit.de },
  fr: { ...core.fr, ...users.fr, ...clients.fr, ...audit.fr },
  es: { ...core.es, ...users.es, ...clients.es, ...audit.es },
});

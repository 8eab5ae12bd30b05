import type { AccountDeletion } from './delete-account.ts';
import type { EmailChange } from './email-change.ts';
import { exportUserData, type ExportDeps } from './export.ts';

/** The three self-service actions, built once (wiring.ts) and used by the JSON API and the pages. */
export interface SelfService {
  emailChange: EmailChange;
  deletion: AccountDeletion;
  exportData(userId: string, currentSessionId: string | null): Promise<Record<string, unknown> | undefined>;
}

export function createSelfService(parts: { emailChange: EmailChange; deletion: AccountDeletion; exportDeps: ExportDeps }): SelfService {
  return {
    emailChange: parts.emailChange,
    deletion: parts.deletion,
    exportData: (userId, currentSessionId) => exportUserData(parts.exportDeps, userId, currentSessionId),
  };
}

/** `Content-Disposition` of a download: the date keeps several exports apart. */
export function exportFileName(now: number): string {
  return `account-data-${new Date(now).toISOString().slice(0, 10)}.json`;
}

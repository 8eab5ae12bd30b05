/** The tables housekeeping deletes from: the `table` label of `gatehouse_housekeeping_deleted_total` (a closed set). */
export const HOUSEKEEPING_TABLES = ['refresh_tokens', 'grants', 'sessions', 'backchannel_sessions', 'one_time_tokens', 'revocations'] as const;

export type HousekeepingTable = (typeof HOUSEKEEPING_TABLES)[number];

/**
 * Clock-skew margin for "expired" (SEC-REL-11): a row is swept only when it has been past its end
 * for this long, so an instance whose clock runs ahead never deletes what another instance still
 * honours.
 */
export const SKEW_MARGIN_MS = 5 * 60_000;

/**
 * How long a dead grant's row and an expired session's row are kept after they died: what still
 * looks a grant up by id (an authorization-code replay, within max(10 × code TTL, 10 min) of the
 * redemption) finds the revoked row and answers invalid_grant as before; sessions expired less
 * than a day ago still end the usual way when their cookie comes back.
 */
export const GRACE_MS = 24 * 3_600_000;

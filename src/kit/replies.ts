// The one reply model of the machines. An ask from outside comes in as an input carrying a `ReplyToken`, the
// host's opaque handle on the pending ask (a number: it can be logged, compared and replayed by the simulator).
// The machine answers it with exactly one `Reply` or `ReplyFailure` effect carrying the same token; the host keeps
// the live reply context behind the token until then (src/daemons/machine-host.ts `ReplyBook`).

declare const replyTokenBrand: unique symbol;

/** The host's handle on a pending ask, opaque to the machine. */
export type ReplyToken = number & { readonly [replyTokenBrand]: true };

export const replyToken = (id: number): ReplyToken => id as ReplyToken;

/** Answer the ask behind `token` with `message`. */
export interface Reply<M> {
  readonly kind: 'Reply';
  readonly token: ReplyToken;
  readonly message: M;
}

/** Fail the ask behind `token`: the asker's ask rejects with a remote error carrying `error`. */
export interface ReplyFailure {
  readonly kind: 'ReplyFailure';
  readonly token: ReplyToken;
  readonly error: string;
}

export type ReplyEffect<M> = Reply<M> | ReplyFailure;

// The app client: (state, input, now) -> effects. No I/O. See README.md.
export { AppClientMachine, type AppClientSnapshot } from './app-client-machine.ts';
export { APP_CLIENT_DEFAULTS, appClientConfig, type AppClientConfig } from './config.ts';
export type { AppClientInput, AppClientInputKind, AppClientTimer, ReplyToken } from './inputs.ts';
export type { AppClientEffect, AppClientEffectKind, MasterAsk } from './effects.ts';

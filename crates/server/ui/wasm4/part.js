// What the page and the Worker both need to know about WASM-4 cartridges
// (`[client] abi = "wasm4"`), with nothing else imported.

/** Whether a client part (from the API) is a WASM-4 cartridge. */
export const isCartridge = (part) => part?.abi === "wasm4";

/** The keyboard help the play page shows for cartridges. */
export const WASM4_KEYS_HELP = "Keyboard: arrows to move, X or Space for button 1, Z for button 2 (or a gamepad: A and B)";

/** Where the page keeps an app's WASM-4 disk (1 KiB, base64). */
export const diskKey = (app) => `lodge.wasm4-disk.${app}`;

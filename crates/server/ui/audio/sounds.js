// Which assets are sounds: the files the page decodes for the mixer
// (audio/engine.js) and a client may play by name (caps/audio.js), the
// formats decodeAudioData reads in every browser.

const SOUND = /\.(wav|ogg|mp3)$/i;

/** Whether the asset `name` is a sound. */
export const isSound = (name) => SOUND.test(String(name));

import en from 'zod/v4/locales/en.js';

/** English messages for zod/mini validation issues, without bundling every zod locale. */
export const englishErrors = en().localeError;

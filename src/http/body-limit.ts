/** The largest request body the service reads: 1 MiB (answered 413 `Request body too large` beyond). */
export const BODY_LIMIT = 1024 * 1024

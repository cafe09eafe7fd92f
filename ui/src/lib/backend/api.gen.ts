// TEMPORARY stub
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface components { schemas: Record<string, any> }

import type { BuildOptions } from 'esbuild'

export declare const common: BuildOptions
export declare const action: BuildOptions
export declare const cli: BuildOptions

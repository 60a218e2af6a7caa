// postject (the Node project's tool to inject a blob into an executable) ships no types.
declare module 'postject' {
  export function inject(
    filename: string,
    resourceName: string,
    resourceData: Buffer,
    options?: { sentinelFuse?: string; overwrite?: boolean },
  ): Promise<void>;
}

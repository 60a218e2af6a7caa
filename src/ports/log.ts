// The Log port: progress lines for the person watching the run (log groups per stage).
export interface Log {
  info(message: string): void;
  notice(message: string): void;
  warning(message: string): void;
  debug(message: string): void;
  startGroup(title: string): void;
  endGroup(): void;
}

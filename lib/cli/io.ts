/** What a CLI command may touch, so tests run commands in-process with their own streams. */
export interface CliIo {
  stdout: (text: string) => void
  stderr: (text: string) => void
  env: Record<string, string | undefined>
}

#!/usr/bin/env node
import { main } from '../lib/cli/main.js'

process.exitCode = await main(process.argv.slice(2), {
  stdout: text => process.stdout.write(text),
  stderr: text => process.stderr.write(text),
  env: process.env,
  now: Date.now,
  onInterrupt: handler => {
    process.once('SIGINT', handler)
    return () => process.off('SIGINT', handler)
  }
})

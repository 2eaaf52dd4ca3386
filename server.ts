// The server from the sources (`npm run dev`, the tests): `npm start` and production run its bundle,
// dist/server.js (scripts/bundle.mjs), which starts the same serve().
import { serve } from './serve.js'

await serve()

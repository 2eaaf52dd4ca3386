// The server from the sources (`npm run dev`, the tests). `npm start` and production run dist/server.js,
// which loads the bundle, dist/server.bundle.js (scripts/bundle.mjs), and starts the same serve().
import { serve } from './serve.js'

await serve()

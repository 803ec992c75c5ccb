import { defineConfig } from 'drizzle-kit'

// Only `generate` is used (migrations are committed and applied by `gatehouse migrate`);
// `drizzle-kit push` is unreliable on MariaDB and skips review, so no credentials live here.
export default defineConfig({
  dialect: 'mysql',
  schema: './db/schema/index.ts',
  out: './db/migrations',
})

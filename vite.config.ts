import tailwindcss from '@tailwindcss/vite'
import { tanstackStart } from '@tanstack/react-start/plugin/vite'
import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

export default defineConfig({
  // 'localhost' (not 127.0.0.1) so the printed URL matches APP_URL's origin, which the CSRF check compares.
  server: { port: Number(process.env.PORT ?? 3000), host: 'localhost', strictPort: true },
  plugins: [
    tailwindcss(),
    tanstackStart({
      // src/start.ts installs our own CSRF check for server functions (src/server/functions/server-fn-csrf.ts).
      serverFns: { disableCsrfMiddlewareWarning: true },
      importProtection: {
        // The production build fails if client code imports server-only modules: everything under
        // src/server/, db/, and *.server.* files (Start's default), plus node-only packages.
        behavior: 'error',
        client: {
          files: ['**/src/server/**', '**/db/**', '**/*.server.*'],
          specifiers: ['@tanstack/react-start/server', 'mysql2', 'mysql2/promise', 'drizzle-orm/mysql2', '@node-rs/argon2', 'nodemailer'],
        },
      },
    }),
    react(),
  ],
})

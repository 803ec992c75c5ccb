/** Column helpers shared by every table, so ids, hashes and times are declared one way. */
import { customType, datetime } from 'drizzle-orm/mysql-core'

/**
 * A case-sensitive string column. Random ids, token hashes and IdP subjects compare
 * byte-for-byte: the default collation is case-insensitive on both MySQL and MariaDB, which would
 * let `ABC` match `abc`. `utf8mb4_bin` exists on MySQL 8.4 and MariaDB 10.11 alike (ADR 003);
 * drizzle has no collation option, so the type is spelled out here once.
 */
export const caseSensitiveVarchar = (name: string, length: number) =>
  customType<{ data: string; driverData: string }>({
    dataType: () => `varchar(${length}) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`,
  })(name)

/** Primary and foreign keys: 26-character random ids (see `src/server/ids.ts`). */
export const idColumn = (name: string) => caseSensitiveVarchar(name, 26)

/** Millisecond UTC timestamps; every pooled connection runs with `time_zone = '+00:00'`. */
export const timestamp = (name: string) => datetime(name, { mode: 'date', fsp: 3 })

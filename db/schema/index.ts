export * from './audit'
export * from './organizations'
export * from './sessions'
export * from './users'

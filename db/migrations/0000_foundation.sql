CREATE TABLE `audit_events` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`organization_id` varchar(26) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
	`actor_user_id` varchar(26) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
	`subject_user_id` varchar(26) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
	`type` varchar(64) NOT NULL,
	`ip` varchar(45),
	`user_agent` varchar(512),
	`details` json NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`previous_hash` varchar(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
	`hash` varchar(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
	CONSTRAINT `audit_events_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `organizations` (
	`id` varchar(26) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
	`name` varchar(120) NOT NULL,
	`slug` varchar(64) NOT NULL,
	`mfa_policy` varchar(24) NOT NULL DEFAULT 'optional',
	`mfa_required_min_role` varchar(32),
	`created_at` datetime(3) NOT NULL,
	CONSTRAINT `organizations_id` PRIMARY KEY(`id`),
	CONSTRAINT `organizations_slug_unique` UNIQUE(`slug`)
);
--> statement-breakpoint
CREATE TABLE `sessions` (
	`id` varchar(26) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
	`secret_hash` varchar(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
	`user_id` varchar(26) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`expires_at` datetime(3) NOT NULL,
	`absolute_expires_at` datetime(3) NOT NULL,
	`last_seen_at` datetime(3) NOT NULL,
	`ip` varchar(45),
	`user_agent` varchar(512),
	`auth_method` varchar(16) NOT NULL,
	`sso_connection_id` varchar(26) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
	`mfa_satisfied_at` datetime(3),
	`reauthenticated_at` datetime(3) NOT NULL,
	CONSTRAINT `sessions_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `users` (
	`id` varchar(26) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
	`organization_id` varchar(26) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
	`email` varchar(254) NOT NULL,
	`email_verified_at` datetime(3),
	`name` varchar(120) NOT NULL,
	`password_hash` varchar(255),
	`role` varchar(32) NOT NULL,
	`disabled_at` datetime(3),
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3) NOT NULL,
	CONSTRAINT `users_id` PRIMARY KEY(`id`),
	CONSTRAINT `users_email_unique` UNIQUE(`email`)
);
--> statement-breakpoint
ALTER TABLE `sessions` ADD CONSTRAINT `sessions_user_id_users_id_fk` FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `users` ADD CONSTRAINT `users_organization_id_organizations_id_fk` FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX `audit_events_organization_idx` ON `audit_events` (`organization_id`,`id`);--> statement-breakpoint
CREATE INDEX `sessions_user_idx` ON `sessions` (`user_id`);--> statement-breakpoint
CREATE INDEX `sessions_expires_idx` ON `sessions` (`expires_at`);--> statement-breakpoint
CREATE INDEX `users_organization_idx` ON `users` (`organization_id`);
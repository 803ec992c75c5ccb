CREATE TABLE `organization_domains` (
	`id` varchar(26) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
	`organization_id` varchar(26) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
	`domain` varchar(253) NOT NULL,
	`verification_token` varchar(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
	`verified_at` datetime(3),
	`verified_by` varchar(16),
	`verified_domain` varchar(253),
	`sso_connection_id` varchar(26) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
	`last_checked_at` datetime(3),
	`last_check_result` varchar(24),
	`created_at` datetime(3) NOT NULL,
	CONSTRAINT `organization_domains_id` PRIMARY KEY(`id`),
	CONSTRAINT `organization_domains_org_domain_unique` UNIQUE(`organization_id`,`domain`),
	CONSTRAINT `organization_domains_verified_domain_unique` UNIQUE(`verified_domain`)
);
--> statement-breakpoint
CREATE TABLE `sso_connections` (
	`id` varchar(26) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
	`organization_id` varchar(26) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
	`protocol` varchar(8) NOT NULL,
	`display_name` varchar(120) NOT NULL,
	`status` varchar(16) NOT NULL DEFAULT 'draft',
	`oidc_issuer` varchar(512),
	`oidc_client_id` varchar(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
	`oidc_scopes` varchar(255),
	`oidc_token_auth_method` varchar(32),
	`oidc_email_claim` varchar(64),
	`oidc_name_claim` varchar(64),
	`oidc_groups_claim` varchar(64),
	`oidc_client_secret_sealed` varchar(1024) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
	`oidc_client_secret_key_id` varchar(16) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
	`group_role_map` json NOT NULL,
	`default_role` varchar(32) NOT NULL,
	`mfa_amr_values` json NOT NULL,
	`mfa_acr_values` json NOT NULL,
	`last_test_result` json,
	`last_tested_at` datetime(3),
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3) NOT NULL,
	CONSTRAINT `sso_connections_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `sso_identities` (
	`id` varchar(26) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
	`connection_id` varchar(26) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
	`subject` varchar(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
	`user_id` varchar(26) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`last_sign_in_at` datetime(3),
	CONSTRAINT `sso_identities_id` PRIMARY KEY(`id`),
	CONSTRAINT `sso_identities_connection_subject_unique` UNIQUE(`connection_id`,`subject`)
);
--> statement-breakpoint
CREATE TABLE `sso_login_flows` (
	`id` varchar(26) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
	`state_hash` varchar(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
	`nonce` varchar(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
	`pkce_verifier_sealed` varchar(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
	`pkce_verifier_key_id` varchar(16) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
	`connection_id` varchar(26) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
	`purpose` varchar(16) NOT NULL,
	`redirect_to` varchar(2048) NOT NULL,
	`requesting_user_id` varchar(26) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
	`requesting_session_id` varchar(26) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
	`browser_binding_hash` varchar(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`expires_at` datetime(3) NOT NULL,
	`consumed_at` datetime(3),
	CONSTRAINT `sso_login_flows_id` PRIMARY KEY(`id`),
	CONSTRAINT `sso_login_flows_state_hash_unique` UNIQUE(`state_hash`)
);
--> statement-breakpoint
ALTER TABLE `organizations` ADD `sso_enforced_at` datetime(3);--> statement-breakpoint
ALTER TABLE `organizations` ADD `break_glass_user_id` varchar(26) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;--> statement-breakpoint
ALTER TABLE `organizations` ADD `sso_mfa_mode` varchar(32) DEFAULT 'require_gatehouse_mfa' NOT NULL;--> statement-breakpoint
ALTER TABLE `sessions` ADD `mfa_method` varchar(16);--> statement-breakpoint
ALTER TABLE `sessions` ADD `idp_authn_context` varchar(255);--> statement-breakpoint
ALTER TABLE `organization_domains` ADD CONSTRAINT `organization_domains_organization_id_organizations_id_fk` FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `organization_domains` ADD CONSTRAINT `organization_domains_sso_connection_id_sso_connections_id_fk` FOREIGN KEY (`sso_connection_id`) REFERENCES `sso_connections`(`id`) ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `sso_connections` ADD CONSTRAINT `sso_connections_organization_id_organizations_id_fk` FOREIGN KEY (`organization_id`) REFERENCES `organizations`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `sso_identities` ADD CONSTRAINT `sso_identities_connection_id_sso_connections_id_fk` FOREIGN KEY (`connection_id`) REFERENCES `sso_connections`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `sso_identities` ADD CONSTRAINT `sso_identities_user_id_users_id_fk` FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `sso_login_flows` ADD CONSTRAINT `sso_login_flows_connection_id_sso_connections_id_fk` FOREIGN KEY (`connection_id`) REFERENCES `sso_connections`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `sso_login_flows` ADD CONSTRAINT `sso_login_flows_requesting_user_id_users_id_fk` FOREIGN KEY (`requesting_user_id`) REFERENCES `users`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `sso_login_flows` ADD CONSTRAINT `sso_login_flows_requesting_session_id_sessions_id_fk` FOREIGN KEY (`requesting_session_id`) REFERENCES `sessions`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX `organization_domains_connection_idx` ON `organization_domains` (`sso_connection_id`);--> statement-breakpoint
CREATE INDEX `sso_connections_organization_idx` ON `sso_connections` (`organization_id`);--> statement-breakpoint
CREATE INDEX `sso_identities_user_idx` ON `sso_identities` (`user_id`);--> statement-breakpoint
CREATE INDEX `sso_login_flows_expires_idx` ON `sso_login_flows` (`expires_at`);--> statement-breakpoint
ALTER TABLE `organizations` ADD CONSTRAINT `organizations_break_glass_user_id_users_id_fk` FOREIGN KEY (`break_glass_user_id`) REFERENCES `users`(`id`) ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `sessions` ADD CONSTRAINT `sessions_sso_connection_id_sso_connections_id_fk` FOREIGN KEY (`sso_connection_id`) REFERENCES `sso_connections`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX `sessions_sso_connection_idx` ON `sessions` (`sso_connection_id`);
CREATE TABLE `sso_consumed_assertions` (
	`id` varchar(26) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
	`connection_id` varchar(26) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
	`assertion_id` varchar(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
	`consumed_at` datetime(3) NOT NULL,
	`expires_at` datetime(3) NOT NULL,
	CONSTRAINT `sso_consumed_assertions_id` PRIMARY KEY(`id`),
	CONSTRAINT `sso_consumed_assertions_connection_assertion_unique` UNIQUE(`connection_id`,`assertion_id`)
);
--> statement-breakpoint
ALTER TABLE `sso_connections` ADD `saml_idp_entity_id` varchar(512) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;--> statement-breakpoint
ALTER TABLE `sso_connections` ADD `saml_idp_sso_url` varchar(2048);--> statement-breakpoint
ALTER TABLE `sso_connections` ADD `saml_idp_certificates` json;--> statement-breakpoint
ALTER TABLE `sso_connections` ADD `saml_name_id_format` varchar(128);--> statement-breakpoint
ALTER TABLE `sso_connections` ADD `saml_email_attribute` varchar(255);--> statement-breakpoint
ALTER TABLE `sso_connections` ADD `saml_name_attribute` varchar(255);--> statement-breakpoint
ALTER TABLE `sso_connections` ADD `saml_groups_attribute` varchar(255);--> statement-breakpoint
ALTER TABLE `sso_connections` ADD `saml_amr_attribute` varchar(255);--> statement-breakpoint
ALTER TABLE `sso_connections` ADD `saml_want_assertions_signed` boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE `sso_connections` ADD `saml_want_authn_response_signed` boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE `sso_connections` ADD `saml_is_idp_initiated_allowed` boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `sso_login_flows` ADD `answered_at` datetime(3);--> statement-breakpoint
ALTER TABLE `sso_login_flows` ADD `completion_ticket_hash` varchar(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;--> statement-breakpoint
ALTER TABLE `sso_login_flows` ADD `validated_result` json;--> statement-breakpoint
ALTER TABLE `sso_login_flows` ADD CONSTRAINT `sso_login_flows_connection_nonce_unique` UNIQUE(`connection_id`,`nonce`);--> statement-breakpoint
ALTER TABLE `sso_login_flows` ADD CONSTRAINT `sso_login_flows_completion_ticket_unique` UNIQUE(`completion_ticket_hash`);--> statement-breakpoint
ALTER TABLE `sso_consumed_assertions` ADD CONSTRAINT `sso_consumed_assertions_connection_id_sso_connections_id_fk` FOREIGN KEY (`connection_id`) REFERENCES `sso_connections`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX `sso_consumed_assertions_expires_idx` ON `sso_consumed_assertions` (`expires_at`);
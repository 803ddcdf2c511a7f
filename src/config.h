/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * config.h -- the configuration file: msmtprc syntax, so an existing msmtprc
 * works with -C.
 *
 *	# comment              (first non-blank character of the line)
 *	defaults               settings for every account defined after it
 *	account NAME           a new account, starting from the defaults
 *	account NAME : A[,B]   starts from the defaults, then A, then B
 *	account default : NAME
 *	key value              value may be "quoted" (as msmtp: no escapes)
 *
 * Errors are ERR_CONFIG with "file:line: ..." messages.
 */
#ifndef YUBIN_CONFIG_H
#define YUBIN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct error;

/* One bit per key in struct account_conf.set (keys set in the file). */
enum config_key {
	CONF_HOST, CONF_PORT, CONF_TLS, CONF_TLS_STARTTLS, CONF_TLS_TRUST_FILE,
	CONF_TLS_FINGERPRINT, CONF_TLS_CERTCHECK, CONF_TLS_CERT_FILE,
	CONF_TLS_KEY_FILE, CONF_TLS_HOST_OVERRIDE, CONF_TLS_PRIORITIES,
	CONF_AUTH, CONF_USER, CONF_PASSWORD, CONF_PASSWORDEVAL, CONF_FROM,
	CONF_DOMAIN, CONF_TIMEOUT, CONF_LOGFILE, CONF_LOGFILE_TIME_FORMAT,
	CONF_SYSLOG, CONF_AUTO_FROM,
	CONF_FROM_FULL_NAME, CONF_ALLOW_FROM_OVERRIDE, CONF_SET_FROM_HEADER,
	CONF_SET_DATE_HEADER, CONF_SET_MSGID_HEADER, CONF_REMOVE_BCC_HEADERS,
	CONF_UNDISCLOSED_RECIPIENTS, CONF_ALIASES, CONF_MAILDOMAIN,
	CONF_DSN_NOTIFY, CONF_DSN_RETURN, CONF_DSN_UNSUPPORTED,
	CONF_QUEUE, CONF_QUEUE_MAX_AGE,
	CONF_TLS_CRL_FILE, CONF_PROTOCOL,
	CONF_OAUTH2_PROVIDER, CONF_OAUTH2_TENANT, CONF_OAUTH2_AUTH_ENDPOINT,
	CONF_OAUTH2_DEVICE_ENDPOINT, CONF_OAUTH2_TOKEN_ENDPOINT,
	CONF_OAUTH2_SCOPE, CONF_OAUTH2_CLIENT_ID, CONF_OAUTH2_CLIENT_SECRET,
	CONF_OAUTH2_CLIENT_SECRET_EVAL, CONF_OAUTH2_TRUST_FILE,
	CONF_PROXY_HOST, CONF_PROXY_PORT, CONF_PROXY_USER, CONF_PROXY_PASSWORD,
	CONF_SOCKET, CONF_SOURCE_IP,
	CONF_NKEYS
};

/* set_from_header: when yubin writes the From: field. */
enum conf_set_from {
	CONF_SET_FROM_AUTO,	/* when the message has none (default) */
	CONF_SET_FROM_ON,	/* always, replacing the message's own */
	CONF_SET_FROM_OFF,	/* never */
};

/* protocol smtp | lmtp */
enum conf_protocol {
	CONF_PROTOCOL_SMTP,	/* RFC 5321 (default) */
	CONF_PROTOCOL_LMTP,	/* RFC 2033: a reply per recipient */
};

/* dsn_unsupported: a DSN request to a server without DSN */
enum conf_dsn_unsupported {
	CONF_DSN_FAIL,		/* exit 69, as msmtp (default) */
	CONF_DSN_SEND,		/* sent without it, with a warning */
};

/* queue off | on-failure | always */
enum conf_queue {
	CONF_QUEUE_ON_FAILURE,	/* a temporary failure queues (default) */
	CONF_QUEUE_OFF,		/* never: exit 75 */
	CONF_QUEUE_ALWAYS,	/* queue, send in the background */
};

/* An account as written in the file (after inheritance), not yet checked. */
struct account_conf {
	char *name;
	char *host;
	long port;		/* 0: not set */
	bool tls;
	bool tls_starttls;
	char *tls_trust_file;
	char *tls_fingerprint;
	bool tls_certcheck;
	char *tls_cert_file;
	char *tls_key_file;
	char *tls_host_override;
	char *tls_priorities;
	char *tls_crl_file;	/* PEM CRLs the server's chain is checked
				   against, or NULL */
	long protocol;		/* enum conf_protocol */
	char *auth;		/* "on", "off" or a method name, as written */
	char *user;
	char *password;		/* secret: wiped on release */
	char *passwordeval;
	char *from;
	char *domain;
	long timeout;		/* seconds; 0 = off */
	char *logfile;		/* "-": standard output */
	char *logfile_time_format;	/* strftime(3); NULL: msmtp's */
	char *syslog;		/* "LOG_USER", "LOG_MAIL", ...; NULL: off */
	bool auto_from;		/* from is %U@maildomain (msmtp, obsolete) */
	/* the message and its envelope (msmtp's keys) */
	char *from_full_name;		/* for a From: field yubin writes */
	bool allow_from_override;	/* -f / -F may replace from */
	long set_from_header;		/* enum conf_set_from */
	bool set_date_header;		/* add a missing Date: */
	bool set_msgid_header;		/* add a missing Message-ID: */
	bool remove_bcc_headers;
	bool undisclosed_recipients;	/* To: undisclosed-recipients:; */
	char *aliases;			/* aliases file */
	char *maildomain;		/* for recipients without a domain */
	char *dsn_notify;		/* "NEVER" or "SUCCESS,FAILURE,..." */
	char *dsn_return;		/* "FULL" or "HDRS" */
	long dsn_unsupported;		/* enum conf_dsn_unsupported */
	long queue;			/* enum conf_queue */
	long queue_max_age;		/* seconds */
	/* OAuth 2.0 (yubin's own keys, see yubinrc(5) OAUTH2) */
	char *oauth2_provider;		/* "google", "microsoft", "custom" */
	char *oauth2_tenant;		/* microsoft: default "common" */
	char *oauth2_auth_endpoint;	/* https:// URLs */
	char *oauth2_device_endpoint;
	char *oauth2_token_endpoint;
	char *oauth2_scope;
	char *oauth2_client_id;
	char *oauth2_client_secret;	/* secret: wiped on release */
	char *oauth2_client_secret_eval;
	char *oauth2_trust_file;	/* CA file for the provider */
	/* the way to the server */
	char *proxy_host;		/* SOCKS5 proxy */
	long proxy_port;		/* 0: not set (1080) */
	char *proxy_user;		/* RFC 1929 (yubin's own keys) */
	char *proxy_password;		/* secret: wiped on release */
	char *socket;			/* a unix socket instead of TCP */
	char *source_ip;		/* bind to it */
	unsigned long set;	/* (1UL << CONF_X) when key X was written */
	char *file;		/* where the account was defined */
	int line;
	struct account_conf *next;
};

struct config {
	char *path;			/* file that was read */
	char *system_path;		/* msmtp's system file, read first
					   and merged (NULL: not read) */
	bool private_file;		/* not readable by group/others */
	struct account_conf *accounts;	/* in file order */
	char *default_name;		/* from "account default : NAME" */
};

void config_init(struct config *c);

/*
 * Read the file at path, or with path NULL the first that exists of
 * yubin's files: $XDG_CONFIG_HOME/yubin/config (~/.config/yubin/config),
 * ~/.yubinrc, SYSCONFDIR/yubinrc; none: msmtp's, as msmtp reads them
 * (config_load_msmtp(): MSMTP_SYSCONFDIR/msmtprc merged with ~/.msmtprc
 * or else $XDG_CONFIG_HOME/msmtp/config). Then, as in msmtp, when no
 * account "default" is defined and SMTPSERVER is set, an account "default"
 * with that host and EMAIL as its from.
 * Checks permissions with fstat on the open file: a file that holds a
 * "password" and is readable by others is refused (ERR_CONFIG, message says
 * "chmod 600 FILE"); one that runs commands (eval, passwordeval, ...) must
 * not be writable by others. Nothing found: ERR_CONFIG listing the places
 * tried.
 */
int config_load(struct config *c, const char *path, struct error *err);

/*
 * msmtp's lookup: system_file (if it exists), then the first of
 * user_files[0..n) that exists; the user's accounts override the system
 * file's of the same name. 1: something read (c->path the user file, or
 * the system file alone; c->system_path when both); 0: neither exists.
 */
int config_load_msmtp(struct config *c, const char *system_file,
    char *const *user_files, size_t n, struct error *err);

/* Parse an open stream; name is used in messages ("name:line: ..."). */
int config_parse(struct config *c, FILE *f, const char *name,
    struct error *err);

/*
 * A key set on the command line (msmtp's --port=N, ...), in every account:
 * the value checked as in a file; errors "option '--port': ...".
 */
int config_set(struct config *c, const char *option, const char *key,
    const char *value, struct error *err);

/*
 * msmtp's --host: no file; one account "cmdline" with yubin's defaults, to
 * which config_set() adds the command line's keys.
 */
int config_cmdline(struct config *c, struct error *err);

/* The account called name, or NULL. "default" resolves the default. */
struct account_conf *config_find(const struct config *c, const char *name);

/* Whether key k was written for account a. */
static inline bool config_isset(const struct account_conf *a,
    enum config_key k)
{
	return (a->set >> k) & 1;
}

void config_release(struct config *c);

#endif

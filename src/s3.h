/* s3.h — the S3 API for the offsite backup tier: put (whole or multipart), get, head, list and
 * delete of objects in [backup] s3_bucket under s3_prefix, at s3_endpoint (path-style URLs; empty
 * endpoint = AWS for s3_region), signed with libcurl's AWS SigV4. Credentials come from
 * the configuration's secrets ([backup] s3_access_key/s3_secret_key, which may be
 * "@/path" to a 0600 file) and never appear in messages. Every call is blocking, one
 * request, no retry (callers decide), bounded by [http] request_timeout_ms for small
 * requests; transfers of files have no total timeout but abort when the connection
 * stalls for longer than that. */
#ifndef CK_S3_H
#define CK_S3_H

#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "err.h"

#define S3_META_MAX 4

/* User metadata (x-amz-meta-NAME: VALUE); names lower-case [a-z0-9-]. */
struct s3_meta {
	char name[32];
	char value[128];
};

struct s3_object {
	char key[1024];                   /* full key, prefix included */
	int64_t size;                     /* bytes */
	int64_t modified;                 /* ms, from LastModified (0 if unparsable) */
	struct s3_meta meta[S3_META_MAX]; /* filled by s3_head/s3_get_file only */
	size_t nmeta;
};

/* 1 when the offsite tier is configured (a bucket is set). */
int s3_configured(const struct cfg *c);

/* The object URL of key (endpoint/bucket/key, key percent-encoded except '/'), into
 * buf. Returns CK_ENOMEM if it does not fit. */
int s3_url(const struct cfg *c, const char *key, char *buf, size_t size, struct ck_err *err);

/* Uploads the file at path as key with storage class and metadata. payload_sha256: hex
 * SHA-256 of the file (signed, so the server checks the body), or NULL for
 * UNSIGNED-PAYLOAD. CK_EHTTP with the S3 error code on a refusal, CK_ENET on a
 * connection failure, CK_EIO on a local read error. */
int s3_put_file(const struct cfg *c, const char *key, const char *path, const char *payload_sha256,
		const struct s3_meta *meta, size_t nmeta, struct ck_err *err);

/* s3_put_file of len bytes in memory (len > 0). */
int s3_put_buf(const struct cfg *c, const char *key, const void *buf, size_t len,
	       const char *payload_sha256, const struct s3_meta *meta, size_t nmeta,
	       struct ck_err *err);

/* Multipart upload (for objects streamed without a local copy): s3_mpu_create starts one
 * for key with the storage class and metadata of s3_put_file and fills upload_id;
 * s3_mpu_part uploads part number part (1..S3_PARTS_MAX; every part but the last at
 * least S3_PART_MIN bytes) with its payload hash signed and fills etag (quotes kept);
 * s3_mpu_complete joins parts 1..nparts, etags[i] being part i + 1's (a 200 answer
 * carrying an error is an error); s3_mpu_abort drops the upload and its parts (an
 * unknown upload is not an error). Errors as s3_put_file's. */
#define S3_PART_MIN (5 << 20)
#define S3_PARTS_MAX 10000
int s3_mpu_create(const struct cfg *c, const char *key, const struct s3_meta *meta, size_t nmeta,
		  char *upload_id, size_t id_size, struct ck_err *err);
int s3_mpu_part(const struct cfg *c, const char *key, const char *upload_id, int part,
		const void *buf, size_t len, const char *payload_sha256, char *etag,
		size_t etag_size, struct ck_err *err);
int s3_mpu_complete(const struct cfg *c, const char *key, const char *upload_id, char *const *etags,
		    int nparts, struct ck_err *err);
int s3_mpu_abort(const struct cfg *c, const char *key, const char *upload_id, struct ck_err *err);

/* Downloads key into the file at path (created or truncated; caller removes it on
 * failure); *obj (may be NULL) gets size and metadata. CK_ENOTFOUND for 404. */
int s3_get_file(const struct cfg *c, const char *key, const char *path, struct s3_object *obj,
		struct ck_err *err);

/* Size and metadata of key. CK_ENOTFOUND for 404. */
int s3_head(const struct cfg *c, const char *key, struct s3_object *obj, struct ck_err *err);

/* Every object whose key starts with prefix (ListObjectsV2, all pages); *out malloc'd
 * (caller frees), at most 100000 objects. */
int s3_list(const struct cfg *c, const char *prefix, struct s3_object **out, size_t *n,
	    struct ck_err *err);

/* Deletes key (a missing key is not an error). */
int s3_delete(const struct cfg *c, const char *key, struct ck_err *err);

/* Helpers, public for the unit tests. */
/* Percent-encodes s (RFC 3986 unreserved kept; '/' kept when keep_slash). */
int s3_encode(const char *s, int keep_slash, char *buf, size_t size);
/* Parses a ListObjectsV2 XML body: appends the <Contents> entries to *v (len/cap),
 * sets *truncated and the continuation token (empty if none). */
int s3_parse_list(const char *xml, struct s3_object **v, size_t *len, size_t *cap, int *truncated,
		  char *token, size_t token_size, struct ck_err *err);
/* The UploadId of an InitiateMultipartUploadResult body into id: 0, or -1. */
int s3_parse_upload_id(const char *xml, char *id, size_t size);
/* The CompleteMultipartUpload body of parts 1..nparts (etags[i] is part i + 1's) into
 * *out (malloc'd): 0, or -1 (out of memory). */
int s3_complete_xml(char *const *etags, int nparts, char **out);
/* The <Code> and <Message> of an S3 error body, "Code: Message", into buf. */
void s3_parse_error(const char *xml, char *buf, size_t size);
/* "2024-03-01T12:00:00.000Z" → ms; -1 if malformed. */
int64_t s3_parse_time(const char *s);
/* The value of metadata name in obj, or NULL. */
const char *s3_meta_get(const struct s3_object *obj, const char *name);

#endif

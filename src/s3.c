/* s3.c — a small S3 client over libcurl's easy interface with CURLOPT_AWS_SIGV4:
 * path-style object URLs, streaming uploads and downloads of files, uploads from
 * memory and multipart uploads (POST bodies, ETags), ListObjectsV2
 * parsing, S3 error bodies turned into messages. No retries here (backup.c retries). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <curl/curl.h>

#include "codec.h"
#include "s3.h"
#include "utc.h"
#include "banned.h"

#define S3_BODY_MAX (4 << 20) /* ceiling of a response body kept in memory */

int s3_configured(const struct cfg *c)
{
	return c->s3_bucket && *c->s3_bucket;
}

int s3_encode(const char *s, int keep_slash, char *buf, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~' ||
		    (keep_slash && ch == '/')) {
			if (o + 1 >= size)
				return -1;
			buf[o++] = (char)ch;
		} else {
			if (o + 3 >= size)
				return -1;
			buf[o++] = '%';
			buf[o++] = hex[ch >> 4];
			buf[o++] = hex[ch & 15];
		}
	}
	if (o >= size)
		return -1;
	buf[o] = 0;
	return 0;
}

static int base_url(const struct cfg *c, char *buf, size_t size, struct ck_err *err)
{
	char bucket[256];
	int n;

	if (!s3_configured(c))
		return ck_err_set(err, CK_EUSAGE,
				  "offsite backup: no S3 bucket configured"
				  " (set [backup] s3_bucket)");
	if (s3_encode(c->s3_bucket, 0, bucket, sizeof(bucket)))
		return ck_err_set(err, CK_EUSAGE, "[backup] s3_bucket is too long");
	if (c->s3_endpoint && *c->s3_endpoint) {
		size_t l = strlen(c->s3_endpoint);
		while (l && c->s3_endpoint[l - 1] == '/')
			l--;
		n = snprintf(buf, size, "%.*s/%s", (int)l, c->s3_endpoint, bucket);
	} else {
		n = snprintf(buf, size, "https://s3.%s.amazonaws.com/%s", c->s3_region, bucket);
	}
	if (n < 0 || (size_t)n >= size)
		return ck_err_set(err, CK_ENOMEM, "offsite backup: S3 URL too long");
	return 0;
}

int s3_url(const struct cfg *c, const char *key, char *buf, size_t size, struct ck_err *err)
{
	char ekey[3200];
	size_t l;

	if (base_url(c, buf, size, err))
		return err->code;
	if (s3_encode(key, 1, ekey, sizeof(ekey)))
		return ck_err_set(err, CK_ENOMEM, "S3 key too long: %s", key);
	l = strlen(buf);
	if ((size_t)snprintf(buf + l, size - l, "/%s", ekey) >= size - l)
		return ck_err_set(err, CK_ENOMEM, "S3 URL too long for key %s", key);
	return 0;
}

const char *s3_meta_get(const struct s3_object *obj, const char *name)
{
	size_t i;
	for (i = 0; i < obj->nmeta; i++)
		if (!strcasecmp(obj->meta[i].name, name))
			return obj->meta[i].value;
	return NULL;
}

/* Text between <tag> and </tag> starting the search at p; copies into buf. Returns the
 * position after the closing tag, or NULL. */
static const char *xml_field(const char *p, const char *end, const char *tag, char *buf,
			     size_t size)
{
	char open[64], close[64];
	const char *a, *b;
	size_t n;

	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	a = strstr(p, open);
	if (!a || (end && a >= end))
		return NULL;
	a += strlen(open);
	b = strstr(a, close);
	if (!b || (end && b > end))
		return NULL;
	n = (size_t)(b - a);
	if (n >= size)
		n = size - 1;
	memcpy(buf, a, n);
	buf[n] = 0;
	return b + strlen(close);
}

/* Undoes the five predefined XML entities in place. */
static void xml_unescape(char *s)
{
	static const struct {
		const char *ent;
		char ch;
	} ents[] = {
		{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
	char *r = s, *w = s;
	size_t i;

	while (*r) {
		for (i = 0; i < sizeof(ents) / sizeof(ents[0]); i++) {
			size_t l = strlen(ents[i].ent);
			if (!strncmp(r, ents[i].ent, l)) {
				*w++ = ents[i].ch;
				r += l;
				break;
			}
		}
		if (i == sizeof(ents) / sizeof(ents[0]))
			*w++ = *r++;
	}
	*w = 0;
}

int64_t s3_parse_time(const char *s)
{
	int64_t ms;
	char buf[32];
	const char *dot;

	/* utc_parse-like, but with optional fractional seconds. */
	int y, mo, d, h, mi, sec, n = 0;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
	    y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 ||
	    mi > 59 || sec < 0 || sec > 60)
		return -1; /* also no time before the epoch: ms would be negative */
	ms = utc_from_fields(y, mo, d, h, mi, sec);
	dot = s + n;
	if (*dot == '.') {
		int k = 0, frac = 0;
		snprintf(buf, sizeof(buf), "%s", dot + 1);
		for (k = 0; k < 3 && isdigit((unsigned char)buf[k]); k++)
			frac = frac * 10 + (buf[k] - '0');
		for (; k < 3; k++)
			frac *= 10;
		ms += frac;
	}
	return ms;
}

int s3_parse_list(const char *xml, struct s3_object **v, size_t *len, size_t *cap, int *truncated,
		  char *token, size_t token_size, struct ck_err *err)
{
	const char *p = xml, *c;
	char buf[64];

	*truncated = 0;
	token[0] = 0;
	if (!strstr(xml, "<ListBucketResult"))
		return ck_err_set(err, CK_EVALIDATE, "S3 list: not a ListBucketResult answer");
	while ((c = strstr(p, "<Contents>"))) {
		const char *end = strstr(c, "</Contents>");
		struct s3_object *o;
		if (!end)
			return ck_err_set(err, CK_EVALIDATE, "S3 list: unterminated <Contents>");
		if (*len == *cap) {
			size_t ncap = *cap ? *cap * 2 : 32;
			struct s3_object *nv;
			if (ncap > 100000 || !(nv = realloc(*v, ncap * sizeof(**v))))
				return ck_err_set(err, CK_ENOMEM,
						  "S3 list: too many objects (ceiling 100000)");
			*v = nv;
			*cap = ncap;
		}
		o = &(*v)[*len];
		memset(o, 0, sizeof(*o));
		if (!xml_field(c, end, "Key", o->key, sizeof(o->key)))
			return ck_err_set(err, CK_EVALIDATE, "S3 list: <Contents> without <Key>");
		xml_unescape(o->key);
		if (xml_field(c, end, "Size", buf, sizeof(buf)))
			o->size = strtoll(buf, NULL, 10);
		if (xml_field(c, end, "LastModified", buf, sizeof(buf)))
			o->modified = s3_parse_time(buf);
		(*len)++;
		p = end + strlen("</Contents>");
	}
	if (xml_field(xml, NULL, "IsTruncated", buf, sizeof(buf)) && !strcmp(buf, "true")) {
		*truncated = 1;
		if (xml_field(xml, NULL, "NextContinuationToken", token, token_size))
			xml_unescape(token);
	}
	return 0;
}

void s3_parse_error(const char *xml, char *buf, size_t size)
{
	char code[128] = "", msg[200] = "";
	xml_field(xml, NULL, "Code", code, sizeof(code));
	xml_field(xml, NULL, "Message", msg, sizeof(msg));
	xml_unescape(msg);
	if (code[0])
		snprintf(buf, size, "%s: %s", code, msg);
	else
		snprintf(buf, size, "no S3 error body");
}

/* ---- requests ---- */

struct req {
	CURL *h;
	FILE *out;  /* download target (2xx bodies) */
	char *body; /* other bodies, capped at S3_BODY_MAX */
	size_t body_len;
	int overflow;
	struct s3_object *obj;
	int write_err;
	char *etag; /* the ETag answer header, quotes kept, when set */
	size_t etag_size;
};

static size_t on_write(char *p, size_t sz, size_t nm, void *arg)
{
	struct req *r = arg;
	size_t n = sz * nm;
	long status = 0;

	curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &status);
	if (r->out && status >= 200 && status < 300) {
		if (fwrite(p, 1, n, r->out) != n) {
			r->write_err = errno ? errno : EIO;
			return 0;
		}
		return n;
	}
	if (r->body_len + n > S3_BODY_MAX) {
		r->overflow = 1;
		return 0;
	}
	{
		char *nb = realloc(r->body, r->body_len + n + 1);
		if (!nb)
			return 0;
		r->body = nb;
	}
	memcpy(r->body + r->body_len, p, n);
	r->body_len += n;
	r->body[r->body_len] = 0;
	return n;
}

static size_t on_header(char *p, size_t sz, size_t nm, void *arg)
{
	struct req *r = arg;
	size_t n = sz * nm, l = n;
	static const char pre[] = "x-amz-meta-";

	while (l && (p[l - 1] == '\r' || p[l - 1] == '\n'))
		l--;
	if (r->etag && l > 5 && !strncasecmp(p, "etag:", 5)) {
		const char *v = p + 5;
		while (v < p + l && *v == ' ')
			v++;
		if ((size_t)(p + l - v) < r->etag_size) {
			memcpy(r->etag, v, (size_t)(p + l - v));
			r->etag[p + l - v] = 0;
		}
	}
	if (!r->obj)
		return n;
	if (l > sizeof(pre) - 1 && !strncasecmp(p, pre, sizeof(pre) - 1) &&
	    r->obj->nmeta < S3_META_MAX) {
		const char *colon = memchr(p, ':', l);
		if (colon) {
			struct s3_meta *m = &r->obj->meta[r->obj->nmeta];
			const char *v = colon + 1;
			size_t nl = (size_t)(colon - p) - (sizeof(pre) - 1), k;
			while (v < p + l && *v == ' ')
				v++;
			if (nl < sizeof(m->name) && (size_t)(p + l - v) < sizeof(m->value)) {
				for (k = 0; k < nl; k++)
					m->name[k] = (char)tolower(
						(unsigned char)p[sizeof(pre) - 1 + k]);
				m->name[nl] = 0;
				memcpy(m->value, v, (size_t)(p + l - v));
				m->value[p + l - v] = 0;
				r->obj->nmeta++;
			}
		}
	} else if (l > 15 && !strncasecmp(p, "content-length:", 15)) {
		r->obj->size = strtoll(p + 15, NULL, 10);
	}
	return n;
}

/* One signed request. method: "GET", "PUT", "HEAD", "DELETE". url: full URL. upload /
 * out: optional files. Fills status. Returns 0 for a 2xx answer, else an error. */
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* What some requests add: a POST body in memory, the ETag answer header. */
struct req_extra {
	const char *post; /* POST body (may be ""), NUL-free */
	size_t post_len;
	char *etag;
	size_t etag_size;
};

static int s3_request_ex(const struct cfg *c, const char *method, const char *url, FILE *upload,
			 int64_t upload_size, const char *payload_sha, FILE *out,
			 struct curl_slist *hdrs, struct s3_object *obj, long *status_out,
			 const struct req_extra *x, struct ck_err *err)
{
	struct curl_slist *own = NULL, *t;
	char ph[128];
	struct req r;
	CURL *h;
	CURLcode cc;
	char sig[160], ebuf[CURL_ERROR_SIZE] = "";
	long status = 0;
	int ret = 0;

	memset(&r, 0, sizeof(r));
	if (status_out)
		*status_out = 0;
	if (!c->s3_access_key || !*c->s3_access_key || !c->s3_secret_key || !*c->s3_secret_key)
		return ck_err_set(
			err, CK_EUSAGE,
			"offsite backup: S3 credentials missing (set [backup]"
			" s3_access_key and s3_secret_key, in the environment or as @FILE with"
			" mode 0600)");
	/* S3 requires the payload hash header; libcurl signs it with the other x-amz-*. */
	snprintf(ph, sizeof(ph), "x-amz-content-sha256: %s",
		 payload_sha ? payload_sha : EMPTY_SHA256);
	if (!(t = curl_slist_append(hdrs, ph)))
		return ck_err_set(err, CK_ENOMEM, "S3 %s: out of memory", method);
	if (!hdrs)
		hdrs = own = t;
	if (!(h = curl_easy_init())) {
		curl_slist_free_all(own);
		return ck_err_set(err, CK_ENOMEM, "S3 %s: cannot create a curl handle", method);
	}
	r.h = h;
	r.out = out;
	r.obj = obj;
	if (x && x->etag) {
		r.etag = x->etag;
		r.etag_size = x->etag_size;
		x->etag[0] = 0;
	}
	snprintf(sig, sizeof(sig), "aws:amz:%s:s3", c->s3_region);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_AWS_SIGV4, sig);
	curl_easy_setopt(h, CURLOPT_USERNAME, c->s3_access_key);
	curl_easy_setopt(h, CURLOPT_PASSWORD, c->s3_secret_key);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)c->connect_timeout_ms);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &r);
	curl_easy_setopt(h, CURLOPT_USERAGENT, c->user_agent);
	if (upload || out) {
		/* Big transfers: no total timeout, but a stalled connection is given up. */
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME,
				 (long)(c->request_timeout_ms / 1000 > 0
						? c->request_timeout_ms / 1000
						: 1));
	} else {
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)c->request_timeout_ms);
	}
	if (!strcmp(method, "PUT")) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READDATA, upload);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)upload_size);
	} else if (!strcmp(method, "HEAD")) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(method, "POST")) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)(x && x->post ? x->post_len : 0));
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, x && x->post ? x->post : "");
	} else if (strcmp(method, "GET")) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	}
	if (hdrs)
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (status_out)
		*status_out = status;
	if (r.write_err) {
		ret = ck_err_set(err, r.write_err == ENOSPC ? CK_EFULL : CK_EIO,
				 "S3 %s %s: write download: %s", method, url,
				 strerror(r.write_err));
	} else if (cc != CURLE_OK && !(status >= 300)) {
		ret = ck_err_set(err, CK_ENET,
				 "S3 %s %s: %s (check [backup] s3_endpoint and the"
				 " network)",
				 method, url, ebuf[0] ? ebuf : curl_easy_strerror(cc));
	} else if (status < 200 || status >= 300) {
		char why[300];
		if (r.body)
			s3_parse_error(r.body, why, sizeof(why));
		else
			snprintf(why, sizeof(why), "no error body");
		ret = ck_err_set(err, status == 404 ? CK_ENOTFOUND : CK_EHTTP,
				 "S3 %s %s: HTTP %ld %s%s", method, url, status, why,
				 status == 403 ? " (check the S3 credentials, region and clock)"
					       : "");
	}
	free(r.body);
	curl_easy_cleanup(h);
	curl_slist_free_all(own);
	return ret;
}

static int s3_request(const struct cfg *c, const char *method, const char *url, FILE *upload,
		      int64_t upload_size, const char *payload_sha, FILE *out,
		      struct curl_slist *hdrs, struct s3_object *obj, long *status_out,
		      struct ck_err *err)
{
	return s3_request_ex(c, method, url, upload, upload_size, payload_sha, out, hdrs, obj,
			     status_out, NULL, err);
}

/* The headers of a new object: storage class, content type, metadata (appended to
 * *hdrs). 0 or -1 (out of memory). */
static int object_headers(const struct cfg *c, struct curl_slist **hdrs, const struct s3_meta *meta,
			  size_t nmeta)
{
	char line[256];
	struct curl_slist *t;
	size_t i;

	snprintf(line, sizeof(line), "x-amz-storage-class: %s", c->s3_storage_class);
	if (!(t = curl_slist_append(*hdrs, line)))
		return -1;
	*hdrs = t;
	if (!(t = curl_slist_append(*hdrs, "Content-Type: application/zstd")))
		return -1;
	*hdrs = t;
	for (i = 0; i < nmeta; i++) {
		snprintf(line, sizeof(line), "x-amz-meta-%s: %s", meta[i].name, meta[i].value);
		if (!(t = curl_slist_append(*hdrs, line)))
			return -1;
		*hdrs = t;
	}
	return 0;
}

int s3_put_buf(const struct cfg *c, const char *key, const void *buf, size_t len,
	       const char *payload_sha256, const struct s3_meta *meta, size_t nmeta,
	       struct ck_err *err)
{
	char url[4096];
	struct curl_slist *hdrs = NULL;
	FILE *f;
	int ret;

	if (s3_url(c, key, url, sizeof(url), err))
		return err->code;
	if (!len || !(f = fmemopen((void *)buf, len, "rb")))
		return ck_err_set(err, len ? CK_ENOMEM : CK_EUSAGE, "S3 upload of %s: %s", key,
				  len ? "out of memory" : "nothing to upload");
	if (object_headers(c, &hdrs, meta, nmeta)) {
		curl_slist_free_all(hdrs);
		fclose(f);
		return ck_err_set(err, CK_ENOMEM, "S3 upload of %s: out of memory", key);
	}
	ret = s3_request(c, "PUT", url, f, (int64_t)len,
			 payload_sha256 ? payload_sha256 : "UNSIGNED-PAYLOAD", NULL, hdrs, NULL,
			 NULL, err);
	curl_slist_free_all(hdrs);
	fclose(f);
	return ret;
}

/* The URL of key with a query (already in SigV4's sorted, encoded form) into buf. */
static int query_url(const struct cfg *c, const char *key, const char *query, char *buf,
		     size_t size, struct ck_err *err)
{
	size_t l;

	if (s3_url(c, key, buf, size, err))
		return err->code;
	l = strlen(buf);
	if ((size_t)snprintf(buf + l, size - l, "?%s", query) >= size - l)
		return ck_err_set(err, CK_ENOMEM, "S3 URL too long for key %s", key);
	return 0;
}

/* A 2xx body in memory (open_memstream) for the requests whose answer is XML. */
static int request_xml(const struct cfg *c, const char *method, const char *url,
		       const char *payload_sha, struct curl_slist *hdrs, const struct req_extra *x,
		       char **body, struct ck_err *err)
{
	size_t blen = 0;
	FILE *mf;
	int ret;

	*body = NULL;
	if (!(mf = open_memstream(body, &blen)))
		return ck_err_set(err, CK_ENOMEM, "S3 %s: out of memory", method);
	ret = s3_request_ex(c, method, url, NULL, 0, payload_sha, mf, hdrs, NULL, NULL, x, err);
	fclose(mf);
	if (!ret && blen > S3_BODY_MAX)
		ret = ck_err_set(err, CK_ENOMEM, "S3 %s: answer larger than %d bytes", method,
				 S3_BODY_MAX);
	if (ret) {
		free(*body);
		*body = NULL;
	}
	return ret;
}

int s3_parse_upload_id(const char *xml, char *id, size_t size)
{
	if (!strstr(xml, "<InitiateMultipartUploadResult") ||
	    !xml_field(xml, NULL, "UploadId", id, size) || !id[0])
		return -1;
	xml_unescape(id);
	return 0;
}

int s3_mpu_create(const struct cfg *c, const char *key, const struct s3_meta *meta, size_t nmeta,
		  char *upload_id, size_t id_size, struct ck_err *err)
{
	char url[4096];
	struct curl_slist *hdrs = NULL;
	char *body = NULL;
	int ret;

	upload_id[0] = 0;
	if (query_url(c, key, "uploads=", url, sizeof(url), err))
		return err->code;
	if (object_headers(c, &hdrs, meta, nmeta)) {
		curl_slist_free_all(hdrs);
		return ck_err_set(err, CK_ENOMEM, "S3 multipart upload of %s: out of memory", key);
	}
	ret = request_xml(c, "POST", url, NULL, hdrs, NULL, &body, err);
	curl_slist_free_all(hdrs);
	if (!ret && s3_parse_upload_id(body ? body : "", upload_id, id_size))
		ret = ck_err_set(err, CK_EVALIDATE,
				 "S3 POST %s: no UploadId in the answer to"
				 " CreateMultipartUpload",
				 url);
	free(body);
	return ret;
}

/* The query of a request on an upload: partNumber (if > 0) and uploadId, sorted. */
static int upload_query(const char *upload_id, int part, char *buf, size_t size)
{
	char eid[1100];
	int n;

	if (s3_encode(upload_id, 0, eid, sizeof(eid)))
		return -1;
	n = part > 0 ? snprintf(buf, size, "partNumber=%d&uploadId=%s", part, eid)
		     : snprintf(buf, size, "uploadId=%s", eid);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

int s3_mpu_part(const struct cfg *c, const char *key, const char *upload_id, int part,
		const void *buf, size_t len, const char *payload_sha256, char *etag,
		size_t etag_size, struct ck_err *err)
{
	char url[4096], q[1200];
	struct req_extra x = {NULL, 0, etag, etag_size};
	FILE *f;
	int ret;

	if (part < 1 || part > S3_PARTS_MAX || upload_query(upload_id, part, q, sizeof(q)))
		return ck_err_set(err, CK_EUSAGE, "S3 upload of %s: bad part %d or upload id", key,
				  part);
	if (query_url(c, key, q, url, sizeof(url), err))
		return err->code;
	if (!len || !(f = fmemopen((void *)buf, len, "rb")))
		return ck_err_set(err, CK_ENOMEM, "S3 upload of %s part %d: %s", key, part,
				  len ? "out of memory" : "empty part");
	ret = s3_request_ex(c, "PUT", url, f, (int64_t)len,
			    payload_sha256 ? payload_sha256 : "UNSIGNED-PAYLOAD", NULL, NULL, NULL,
			    NULL, &x, err);
	fclose(f);
	if (!ret && !etag[0])
		ret = ck_err_set(err, CK_EVALIDATE,
				 "S3 PUT %s: no ETag in the answer to UploadPart", url);
	return ret;
}

int s3_complete_xml(char *const *etags, int nparts, char **out)
{
	size_t len = 0;
	FILE *mf;
	int i;

	*out = NULL;
	if (!(mf = open_memstream(out, &len)))
		return -1;
	fputs("<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">", mf);
	for (i = 0; i < nparts; i++) {
		const char *e;
		fputs("<Part><ETag>", mf);
		for (e = etags[i]; *e; e++) { /* an ETag is quoted: escape for XML */
			if (*e == '"')
				fputs("&quot;", mf);
			else if (*e == '&')
				fputs("&amp;", mf);
			else if (*e == '<')
				fputs("&lt;", mf);
			else if (*e == '>')
				fputs("&gt;", mf);
			else
				fputc(*e, mf);
		}
		fprintf(mf, "</ETag><PartNumber>%d</PartNumber></Part>", i + 1);
	}
	fputs("</CompleteMultipartUpload>", mf);
	if (fclose(mf)) {
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

int s3_mpu_complete(const struct cfg *c, const char *key, const char *upload_id, char *const *etags,
		    int nparts, struct ck_err *err)
{
	char url[4096], q[1200], sha[65], why[300];
	struct curl_slist *hdrs = NULL;
	struct req_extra x = {NULL, 0, NULL, 0};
	char *xml = NULL, *body = NULL;
	int ret;

	if (upload_query(upload_id, 0, q, sizeof(q)))
		return ck_err_set(err, CK_EUSAGE, "S3 upload of %s: bad upload id", key);
	if (query_url(c, key, q, url, sizeof(url), err))
		return err->code;
	if (s3_complete_xml(etags, nparts, &xml) || codec_sha256_buf(xml, strlen(xml), sha) ||
	    !(hdrs = curl_slist_append(NULL, "Content-Type: application/xml"))) {
		free(xml);
		return ck_err_set(err, CK_ENOMEM, "S3 completion of %s: out of memory", key);
	}
	x.post = xml;
	x.post_len = strlen(xml);
	ret = request_xml(c, "POST", url, sha, hdrs, &x, &body, err);
	/* A 200 answer may still carry an error: S3 sends the status before it is done. */
	if (!ret && (!body || !strstr(body, "<CompleteMultipartUploadResult"))) {
		s3_parse_error(body ? body : "", why, sizeof(why));
		ret = ck_err_set(err, CK_EHTTP, "S3 POST %s: CompleteMultipartUpload failed: %s",
				 url, why);
	}
	free(body);
	free(xml);
	curl_slist_free_all(hdrs);
	return ret;
}

int s3_mpu_abort(const struct cfg *c, const char *key, const char *upload_id, struct ck_err *err)
{
	char url[4096], q[1200];
	int ret;

	if (upload_query(upload_id, 0, q, sizeof(q)))
		return ck_err_set(err, CK_EUSAGE, "S3 upload of %s: bad upload id", key);
	if (query_url(c, key, q, url, sizeof(url), err))
		return err->code;
	ret = s3_request(c, "DELETE", url, NULL, 0, NULL, NULL, NULL, NULL, NULL, err);
	return ret == CK_ENOTFOUND ? 0 : ret; /* NoSuchUpload: nothing left */
}

int s3_put_file(const struct cfg *c, const char *key, const char *path, const char *payload_sha256,
		const struct s3_meta *meta, size_t nmeta, struct ck_err *err)
{
	char url[4096], line[256];
	struct curl_slist *hdrs = NULL, *t;
	FILE *f = NULL;
	int64_t size;
	size_t i;
	int ret;

	if (s3_url(c, key, url, sizeof(url), err))
		return err->code;
	if (!(f = fopen(path, "rb")))
		return ck_err_set(err, CK_EIO, "S3 upload: open %s: %s", path, strerror(errno));
	if (fseeko(f, 0, SEEK_END) || (size = ftello(f)) < 0 || fseeko(f, 0, SEEK_SET)) {
		ret = ck_err_set(err, CK_EIO, "S3 upload: size of %s: %s", path, strerror(errno));
		fclose(f);
		return ret;
	}
	snprintf(line, sizeof(line), "x-amz-storage-class: %s", c->s3_storage_class);
	if (!(t = curl_slist_append(hdrs, line)))
		goto nomem;
	hdrs = t;
	if (!(t = curl_slist_append(hdrs, "Content-Type: application/zstd")))
		goto nomem;
	hdrs = t;
	for (i = 0; i < nmeta; i++) {
		snprintf(line, sizeof(line), "x-amz-meta-%s: %s", meta[i].name, meta[i].value);
		if (!(t = curl_slist_append(hdrs, line)))
			goto nomem;
		hdrs = t;
	}
	ret = s3_request(c, "PUT", url, f, size,
			 payload_sha256 ? payload_sha256 : "UNSIGNED-PAYLOAD", NULL, hdrs, NULL,
			 NULL, err);
	curl_slist_free_all(hdrs);
	fclose(f);
	return ret;
nomem:
	curl_slist_free_all(hdrs);
	fclose(f);
	return ck_err_set(err, CK_ENOMEM, "S3 upload of %s: out of memory", key);
}

int s3_get_file(const struct cfg *c, const char *key, const char *path, struct s3_object *obj,
		struct ck_err *err)
{
	char url[4096];
	struct s3_object tmp;
	FILE *f;
	int ret;

	if (!obj)
		obj = &tmp;
	memset(obj, 0, sizeof(*obj));
	snprintf(obj->key, sizeof(obj->key), "%s", key);
	if (s3_url(c, key, url, sizeof(url), err))
		return err->code;
	if (!(f = fopen(path, "wb")))
		return ck_err_set(err, CK_EIO, "S3 download: create %s: %s", path, strerror(errno));
	fchmod(fileno(f), 0600); /* a temp copy of the database: private, whatever the umask */
	ret = s3_request(c, "GET", url, NULL, 0, NULL, f, NULL, obj, NULL, err);
	if (fflush(f) || ferror(f)) {
		if (!ret)
			ret = ck_err_set(err, errno == ENOSPC ? CK_EFULL : CK_EIO,
					 "S3 download: write %s: %s", path, strerror(errno));
	}
	if (fclose(f) && !ret)
		ret = ck_err_set(err, errno == ENOSPC ? CK_EFULL : CK_EIO,
				 "S3 download: close %s: %s", path, strerror(errno));
	return ret;
}

int s3_head(const struct cfg *c, const char *key, struct s3_object *obj, struct ck_err *err)
{
	char url[4096];

	memset(obj, 0, sizeof(*obj));
	snprintf(obj->key, sizeof(obj->key), "%s", key);
	if (s3_url(c, key, url, sizeof(url), err))
		return err->code;
	return s3_request(c, "HEAD", url, NULL, 0, NULL, NULL, NULL, obj, NULL, err);
}

int s3_delete(const struct cfg *c, const char *key, struct ck_err *err)
{
	char url[4096];
	long status = 0;
	int ret;

	if (s3_url(c, key, url, sizeof(url), err))
		return err->code;
	ret = s3_request(c, "DELETE", url, NULL, 0, NULL, NULL, NULL, NULL, &status, err);
	if (ret == CK_ENOTFOUND)
		return 0;
	return ret;
}

/* A tiny growable buffer for list bodies (the 2xx body is collected via a FILE). */
int s3_list(const struct cfg *c, const char *prefix, struct s3_object **out, size_t *n,
	    struct ck_err *err)
{
	char base[1200], url[4096], eprefix[2048], etoken[2048], token[1024] = "";
	struct s3_object *v = NULL;
	size_t len = 0, cap = 0;
	int truncated = 0, pages = 0, ret = 0;

	*out = NULL;
	*n = 0;
	if (base_url(c, base, sizeof(base), err))
		return err->code;
	if (s3_encode(prefix, 0, eprefix, sizeof(eprefix)))
		return ck_err_set(err, CK_ENOMEM, "S3 list: prefix too long");
	do {
		char *body = NULL;
		size_t blen = 0;
		FILE *mf;
		etoken[0] = 0;
		if (token[0] && s3_encode(token, 0, etoken, sizeof(etoken))) {
			ret = ck_err_set(err, CK_EVALIDATE, "S3 list: continuation token too long");
			break;
		}
		/* Query parameters in SigV4 canonical (sorted, encoded) order. */
		if (token[0])
			snprintf(url, sizeof(url), "%s?continuation-token=%s&list-type=2&prefix=%s",
				 base, etoken, eprefix);
		else
			snprintf(url, sizeof(url), "%s?list-type=2&prefix=%s", base, eprefix);
		if (!(mf = open_memstream(&body, &blen))) {
			ret = ck_err_set(err, CK_ENOMEM, "S3 list: out of memory");
			break;
		}
		ret = s3_request(c, "GET", url, NULL, 0, NULL, mf, NULL, NULL, NULL, err);
		fclose(mf);
		if (!ret && blen > S3_BODY_MAX)
			ret = ck_err_set(err, CK_ENOMEM, "S3 list: answer larger than %d bytes",
					 S3_BODY_MAX);
		if (!ret)
			ret = s3_parse_list(body ? body : "", &v, &len, &cap, &truncated, token,
					    sizeof(token), err);
		free(body);
		if (ret)
			break;
		if (++pages > 1000) {
			ret = ck_err_set(err, CK_EVALIDATE, "S3 list: more than 1000 pages");
			break;
		}
	} while (truncated && token[0]);
	if (ret) {
		free(v);
		return ret;
	}
	*out = v;
	*n = len;
	return 0;
}

// tests/e2e/t4-s3server.js — a small S3-compatible server for the offsite backup tests,
// on 127.0.0.1 (ephemeral port written to --port-file). It checks every request's AWS
// Signature Version 4 (Authorization header: canonical request, string to sign, signing
// key, signature; the x-amz-content-sha256 payload hash against the body) and answers
// 403 SignatureDoesNotMatch / XAmzContentSHA256Mismatch like S3. Objects (with their
// x-amz-meta-* metadata) live in memory. Supports PUT/GET/HEAD/DELETE object,
// ListObjectsV2 and multipart uploads (CreateMultipartUpload, UploadPart,
// CompleteMultipartUpload with its part list checked like S3: ascending part numbers,
// each part's ETag, every part but the last at least 5 MiB; AbortMultipartUpload).
// Fault injection: --fail-puts N answers the first N PUTs (parts included) with 503;
// --fail-part K answers every upload of part number K with 500. --uploads-file PATH
// gets the number of multipart uploads in progress whenever it changes.
// --self-test checks the verifier against AWS's published SigV4 example and exits.
'use strict';
const http = require('http');
const crypto = require('crypto');
const fs = require('fs');

const args = process.argv.slice(2);
const opt = (name, def) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
const ACCESS = opt('--access-key', 'AKIDCANDLEKEEPTEST');
const SECRET = opt('--secret-key', 'candlekeep-test-secret');
const REGION = opt('--region', 'us-east-1');
const BUCKET = opt('--bucket', 'ck-offsite');
let failPuts = parseInt(opt('--fail-puts', '0'), 10);
const log = opt('--log', null);
const failPart = parseInt(opt('--fail-part', '0'), 10);
const uploadsFile = opt('--uploads-file', null);
const PART_MIN = 5 * 1024 * 1024;

const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');
const hmac = (k, s) => crypto.createHmac('sha256', k).update(s).digest();
const enc = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());

// The SigV4 signature of a request: method, raw path (as sent, already encoded), query
// object, headers (lower-case names), signed header list, payload hash, date, scope.
function sigv4(secret, method, path, query, headers, signed, payloadHash, amzDate, scope) {
	const cq = Object.keys(query).sort().map((k) => enc(k) + '=' + enc(query[k])).join('&');
	const ch = signed.map((h) => h + ':' + String(headers[h] ?? '').trim().replace(/\s+/g, ' ') + '\n').join('');
	const creq = [method, path, cq, ch, signed.join(';'), payloadHash].join('\n');
	const sts = ['AWS4-HMAC-SHA256', amzDate, scope, sha(creq)].join('\n');
	const [date, region, service] = scope.split('/');
	const key = hmac(hmac(hmac(hmac('AWS4' + secret, date), region), service), 'aws4_request');
	return crypto.createHmac('sha256', key).update(sts).digest('hex');
}

if (args.includes('--self-test')) {
	// docs.aws.amazon.com AmazonS3 sig-v4-header-based-auth: "GET Object" example.
	const got = sigv4('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'GET', '/test.txt', {},
		{ host: 'examplebucket.s3.amazonaws.com', range: 'bytes=0-9',
		  'x-amz-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
		  'x-amz-date': '20130524T000000Z' },
		['host', 'range', 'x-amz-content-sha256', 'x-amz-date'],
		'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
		'20130524T000000Z', '20130524/us-east-1/s3/aws4_request');
	const want = 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41';
	console.log(got === want ? 'self-test ok' : 'self-test FAILED ' + got);
	process.exit(got === want ? 0 : 1);
}

const objects = new Map(); // key -> {body, meta, modified}
const uploads = new Map(); // upload id -> {key, meta, storageClass, parts: Map(number -> {body, etag})}
let nextUpload = 1;
const saveUploads = () => { if (uploadsFile) fs.writeFileSync(uploadsFile, String(uploads.size)); };
saveUploads();
const md5 = (b) => crypto.createHash('md5').update(b).digest('hex');
const xmlEsc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
function reply(res, status, body, headers) {
	res.writeHead(status, Object.assign({ 'content-type': 'application/xml' }, headers || {}));
	res.end(body || '');
}
function s3err(res, status, code, msg) {
	reply(res, status, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${xmlEsc(msg)}</Message></Error>`);
}
function note(line) { if (log) fs.appendFileSync(log, line + '\n'); }

function verify(req, url, body) {
	const auth = req.headers.authorization || '';
	const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/([^,]+), ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
	if (!m) return ['AccessDenied', 'missing or malformed SigV4 Authorization header'];
	const [, ak, scope, signedHdrs, signature] = m;
	if (ak !== ACCESS) return ['InvalidAccessKeyId', 'unknown access key ' + ak];
	const parts = scope.split('/');
	if (parts.length !== 4 || parts[1] !== REGION || parts[2] !== 's3' || parts[3] !== 'aws4_request')
		return ['AuthorizationHeaderMalformed', 'bad credential scope ' + scope];
	const amzDate = req.headers['x-amz-date'];
	if (!amzDate || amzDate.slice(0, 8) !== parts[0]) return ['AccessDenied', 'x-amz-date missing or not in the scope'];
	const signed = signedHdrs.split(';');
	if (!signed.includes('host') || !signed.includes('x-amz-date')) return ['AccessDenied', 'host and x-amz-date must be signed'];
	const ph = req.headers['x-amz-content-sha256'];
	if (!ph) return ['InvalidRequest', 'Missing required header for this request: x-amz-content-sha256'];
	if (!signed.includes('x-amz-content-sha256')) return ['AccessDenied', 'x-amz-content-sha256 must be signed'];
	if (ph !== 'UNSIGNED-PAYLOAD' && ph !== sha(body)) return ['XAmzContentSHA256Mismatch', 'The provided x-amz-content-sha256 header does not match what was computed.'];
	const query = {};
	for (const [k, v] of url.searchParams) query[k] = v;
	const want = sigv4(SECRET, req.method, url.pathname, query, req.headers, signed, ph, amzDate, scope);
	if (want !== signature) return ['SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.'];
	return null;
}

const server = http.createServer((req, res) => {
	const chunks = [];
	req.on('data', (c) => chunks.push(c));
	req.on('end', () => {
		const body = Buffer.concat(chunks);
		const url = new URL(req.url, 'http://localhost');
		const bad = verify(req, url, body);
		note(`${req.method} ${req.url} ${bad ? bad[0] : 'ok'}`);
		if (bad) return s3err(res, bad[0] === 'InvalidRequest' ? 400 : 403, bad[0], bad[1]);
		const path = url.pathname.split('/').slice(1);
		const bucket = decodeURIComponent(path[0] || '');
		const key = path.slice(1).map(decodeURIComponent).join('/');
		if (bucket !== BUCKET) return s3err(res, 404, 'NoSuchBucket', 'The specified bucket does not exist');
		if (!key && req.method === 'GET') {
			if (url.searchParams.get('list-type') !== '2') return s3err(res, 400, 'InvalidRequest', 'only ListObjectsV2');
			const prefix = url.searchParams.get('prefix') || '';
			const keys = [...objects.keys()].filter((k) => k.startsWith(prefix)).sort();
			const contents = keys.map((k) => `<Contents><Key>${xmlEsc(k)}</Key><LastModified>${objects.get(k).modified}</LastModified><Size>${objects.get(k).body.length}</Size><StorageClass>${objects.get(k).storageClass}</StorageClass></Contents>`).join('');
			return reply(res, 200, `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>${BUCKET}</Name><Prefix>${xmlEsc(prefix)}</Prefix><KeyCount>${keys.length}</KeyCount><IsTruncated>false</IsTruncated>${contents}</ListBucketResult>`);
		}
		if (!key) return s3err(res, 400, 'InvalidRequest', 'no key');
		const meta = {};
		for (const [h, v] of Object.entries(req.headers)) if (h.startsWith('x-amz-meta-')) meta[h] = v;
		if (req.method === 'POST' && url.searchParams.has('uploads')) {
			const id = 'ck-upload-' + nextUpload++;
			uploads.set(id, { key, meta, storageClass: req.headers['x-amz-storage-class'] || 'STANDARD', parts: new Map() });
			saveUploads();
			return reply(res, 200, `<?xml version="1.0" encoding="UTF-8"?><InitiateMultipartUploadResult><Bucket>${BUCKET}</Bucket><Key>${xmlEsc(key)}</Key><UploadId>${id}</UploadId></InitiateMultipartUploadResult>`);
		}
		const uid = url.searchParams.get('uploadId');
		if (uid !== null) {
			const u = uploads.get(uid);
			if (!u || u.key !== key) return s3err(res, 404, 'NoSuchUpload', 'The specified upload does not exist.');
			if (req.method === 'PUT') {
				const n = parseInt(url.searchParams.get('partNumber') || '', 10);
				if (!(n >= 1 && n <= 10000)) return s3err(res, 400, 'InvalidArgument', 'Part number must be an integer between 1 and 10000');
				if (failPuts > 0) { failPuts--; return s3err(res, 503, 'SlowDown', 'injected failure'); }
				if (n === failPart) return s3err(res, 500, 'InternalError', 'injected failure of part ' + n);
				const etag = '"' + md5(body) + '"';
				u.parts.set(n, { body, etag });
				return reply(res, 200, '', { etag });
			}
			if (req.method === 'DELETE') { uploads.delete(uid); saveUploads(); return reply(res, 204); }
			if (req.method !== 'POST') return s3err(res, 405, 'MethodNotAllowed', req.method);
			// CompleteMultipartUpload: the part list, checked as S3 does.
			const list = [...body.toString().matchAll(/<Part>\s*<ETag>([^<]*)<\/ETag>\s*<PartNumber>(\d+)<\/PartNumber>\s*<\/Part>/g)]
				.map((m) => ({ etag: m[1].replace(/&quot;/g, '"').replace(/&amp;/g, '&'), n: parseInt(m[2], 10) }));
			if (!list.length) return s3err(res, 400, 'MalformedXML', 'no parts in the CompleteMultipartUpload body');
			for (let i = 0; i < list.length; i++) {
				if (i && list[i].n <= list[i - 1].n) return s3err(res, 400, 'InvalidPartOrder', 'The list of parts was not in ascending order.');
				const p = u.parts.get(list[i].n);
				if (!p || p.etag !== list[i].etag) return s3err(res, 400, 'InvalidPart', 'part ' + list[i].n + ' not found or its ETag does not match');
				if (i < list.length - 1 && p.body.length < PART_MIN) return s3err(res, 400, 'EntityTooSmall', 'part ' + list[i].n + ' is smaller than 5 MiB');
			}
			const whole = Buffer.concat(list.map((x) => u.parts.get(x.n).body));
			const etag = '"' + md5(Buffer.concat(list.map((x) => Buffer.from(md5(u.parts.get(x.n).body), 'hex')))) + '-' + list.length + '"';
			objects.set(key, { body: whole, meta: u.meta, modified: new Date().toISOString(), storageClass: u.storageClass });
			uploads.delete(uid);
			saveUploads();
			note(`COMPLETE ${key} parts=${list.length} bytes=${whole.length}`);
			return reply(res, 200, `<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUploadResult><Bucket>${BUCKET}</Bucket><Key>${xmlEsc(key)}</Key><ETag>${xmlEsc(etag)}</ETag></CompleteMultipartUploadResult>`);
		}
		if (req.method === 'PUT') {
			if (failPuts > 0) { failPuts--; return s3err(res, 503, 'SlowDown', 'injected failure'); }
			objects.set(key, { body, meta, modified: new Date().toISOString(), storageClass: req.headers['x-amz-storage-class'] || 'STANDARD' });
			return reply(res, 200, '', { etag: '"' + crypto.createHash('md5').update(body).digest('hex') + '"' });
		}
		const o = objects.get(key);
		if (req.method === 'DELETE') { objects.delete(key); return reply(res, 204); }
		if (!o) return s3err(res, 404, 'NoSuchKey', 'The specified key does not exist.');
		const hdrs = Object.assign({ 'content-type': 'application/octet-stream', 'content-length': o.body.length }, o.meta);
		if (req.method === 'HEAD') { res.writeHead(200, hdrs); return res.end(); }
		if (req.method === 'GET') { res.writeHead(200, hdrs); return res.end(o.body); }
		return s3err(res, 405, 'MethodNotAllowed', req.method);
	});
});
server.listen(0, '127.0.0.1', () => {
	const pf = opt('--port-file', null);
	const port = String(server.address().port);
	if (pf) { fs.writeFileSync(pf + '.tmp', port); fs.renameSync(pf + '.tmp', pf); }
	else console.log(port);
});
process.on('SIGTERM', () => process.exit(0));

/* server.h — the HTTP side of fakex: libmicrohttpd with a thread per connection (a
 * slow or hung request holds only its own thread), Binance's /fapi/v1 endpoints with
 * weight accounting and fault injection, and the /_ctl/ control endpoints.
 *
 * Every response carries Content-Type: application/json, X-MBX-USED-WEIGHT-1M and a
 * Date computed from the fake clock (libmicrohttpd's own Date is suppressed). */
#ifndef FAKEX_SERVER_H
#define FAKEX_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "market.h"
#include "reqlog.h"
#include "state.h"

struct fakex {
	struct market market; /* immutable while serving, but for symbol status */
	struct state st;
	struct reqlog *log; /* NULL: no request log */
	struct MHD_Daemon *daemon;
};

/* Starts listening on addr:port (port 0: ephemeral) and stores the bound port.
 * 0, or -1 with a message in err. */
int server_start(struct fakex *fx, const char *addr, int port, int *bound, char *err,
		 size_t errlen);
/* Wakes held requests and stops the daemon, joining every connection thread. */
void server_stop(struct fakex *fx);

#endif

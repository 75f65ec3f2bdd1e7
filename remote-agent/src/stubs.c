#include "agent.h"
void subs_release_all(void){}
void stats_release(void){}
#define STUB(n) void n(json_t *id, json_t *p){reply_error(id,E_NOT_SUPPORTED,NULL,NULL,"todo");}

STUB(do_ringbuf_subscribe) STUB(do_perfbuf_subscribe) STUB(do_trace_subscribe) STUB(do_unsubscribe) STUB(do_prog_stats) STUB(do_features) STUB(do_btf_dump)
static struct sub *subs; static int nsid=1;
int sub_add(struct sub *s){s->id=nsid++; s->next=subs; subs=s; return s->id;}

#include "agent.h"
int links_release_for_handle(int h){return 0;}
void links_release_all(void){}
void subs_release_all(void){}
void stats_release(void){}
#define STUB(n) void n(json_t *id, json_t *p){reply_error(id,E_NOT_SUPPORTED,NULL,NULL,"todo");}
STUB(do_attach) STUB(do_detach) STUB(do_map_dump) STUB(do_map_update) STUB(do_map_delete) STUB(do_map_watch)
STUB(do_ringbuf_subscribe) STUB(do_perfbuf_subscribe) STUB(do_trace_subscribe) STUB(do_unsubscribe) STUB(do_prog_stats) STUB(do_features) STUB(do_btf_dump)
char *btf_type_str(const struct btf *btf, uint32_t t){return NULL;}

#include "agent.h"
int g_stats_fd = -1;
void stats_release(void){}
#define STUB(n) void n(json_t *id, json_t *p){reply_error(id,E_NOT_SUPPORTED,NULL,NULL,"todo");}
STUB(do_prog_stats) STUB(do_features) STUB(do_btf_dump)

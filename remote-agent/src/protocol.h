/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's wire names, in one place. Every method, event and error code the agent
 * speaks is spelled here and nowhere else; client/src/core/agent/agent-protocol.ts mirrors
 * this file and remote-agent/PROTOCOL.md documents it.
 */
#ifndef BPF_AGENT_PROTOCOL_H
#define BPF_AGENT_PROTOCOL_H

#define PROTOCOL_VERSION 1
#define AGENT_VERSION "0.1.0"

/* Methods (requests: {"id":N,"method":M,"params":{...}}). */
#define M_LOAD "load"
#define M_UNLOAD "unload"
#define M_ATTACH "attach"
#define M_DETACH "detach"
#define M_MAP_DUMP "map_dump"
#define M_MAP_UPDATE "map_update"
#define M_MAP_DELETE "map_delete"
#define M_MAP_WATCH "map_watch"
#define M_RINGBUF_SUBSCRIBE "ringbuf_subscribe"
#define M_PERFBUF_SUBSCRIBE "perfbuf_subscribe"
#define M_TRACE_SUBSCRIBE "trace_subscribe"
#define M_UNSUBSCRIBE "unsubscribe"
#define M_PROG_STATS "prog_stats"
#define M_LIST "list"
#define M_FEATURES "features"
#define M_BTF_DUMP "btf_dump"
#define M_PIN "pin"
#define M_UNPIN "unpin"
#define M_CANCEL "cancel"
#define M_PING "ping"
#define M_SHUTDOWN "shutdown"
#define M_EXEC "exec" /* only with --allow-exec (bpf-ide VM guests) */

/* Events ({"event":E,...}). */
#define EV_HELLO "hello"
#define EV_MAP_SNAPSHOT "map_snapshot"
#define EV_RINGBUF_EVENT "ringbuf_event"
#define EV_EVENTS_DROPPED "events_dropped"
#define EV_TRACE_LINE "trace_line"
#define EV_LOG "log"
#define EV_BYE "bye"
#define EV_LOAD_PROGRESS "load_progress"

/* Error codes ({"id":N,"error":{"code":C,"message":...,"hint":...}}). */
#define E_PARSE_ERROR "parse_error"
#define E_INVALID_REQUEST "invalid_request"
#define E_REQUEST_TOO_LARGE "request_too_large"
#define E_UNKNOWN_METHOD "unknown_method"
#define E_INVALID_PARAMS "invalid_params"
#define E_INVALID_BASE64 "invalid_base64"
#define E_INVALID_OBJECT "invalid_object"
#define E_NOT_FOUND "not_found"
#define E_VERIFIER_REJECTED "verifier_rejected"
#define E_VERIFIER_TIMEOUT "verifier_timeout"
#define E_LOAD_FAILED "load_failed"
#define E_ATTACH_FAILED "attach_failed"
#define E_MAP_ERROR "map_error"
#define E_BTF_ERROR "btf_error"
#define E_NOT_SUPPORTED "not_supported"
#define E_PERMISSION_DENIED "permission_denied"
#define E_BUSY "busy"
#define E_IO_ERROR "io_error"
#define E_TOO_LARGE "too_large"
#define E_INTERNAL "internal_error"
#define E_CANCELLED "cancelled"

#endif

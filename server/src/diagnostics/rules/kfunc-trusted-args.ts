/**
 * What a kfunc's pointer arguments must be. The verifier types every BTF pointer: trusted (a tp_btf,
 * iter, lsm or struct_ops program's arguments, bpf_get_current_task_btf(), a reference a kfunc
 * acquired), RCU-protected (the few fields the kernel lists as safe to walk under RCU:
 * `task->real_parent`, `task->group_leader`, `task->cpus_ptr`, `task->cgroups->dfl_cgrp`), or untrusted
 * (any other field walked from a struct: `task->parent`, `task->mm->owner`). Measured on 6.18:
 * - a KF_TRUSTED_ARGS kfunc (bpf_send_signal_task, bpf_cpumask_acquire, ...) or a KF_RELEASE one
 *   (bpf_task_release) given an RCU or untrusted pointer: "R1 must be referenced or trusted";
 * - a KF_RCU kfunc (bpf_task_acquire, bpf_cgroup_acquire, bpf_cpumask_test_cpu, ...) given an untrusted
 *   one: "R1 must be a rcu pointer";
 * - any kfunc given a pointer read with BPF_CORE_READ() or bpf_get_current_task() (a number to the
 *   verifier): "arg#0 pointer type STRUCT task_struct must point to scalar, or struct with scalar".
 * Kfuncs without these flags take untrusted pointers on 6.18; 7.x kernels make every kfunc pointer
 * argument trusted (a warning). A possibly-NULL pointer ("Possibly NULL pointer passed to trusted arg0")
 * is the null-check rule's.
 */
import type { Node } from 'web-tree-sitter';
import { field, kids, opOf, ty } from '../fast-node';
import { kfuncByName } from '../../catalog/catalog';
import type { Kfunc } from '../../catalog/types';
import type { BpfProgram } from '../../bpf-document';
import { stripCasts, stripParens } from '../flow';
import type { FunctionContext, Rule } from '../rule';
import { callArgs, calleeName, identOf } from '../syntax';
import { syntaxIndex } from '../syntax-index';

/** Fields the kernel marks safe to walk under RCU (BTF_TYPE_SAFE_RCU, 6.12 and 7.2 sources). */
const RCU_FIELDS = new Set(['cpus_ptr', 'cgroups', 'real_parent', 'group_leader', 'kn', 'dfl_cgrp']);
/**
 * Fields whose walk is trusted, or whose class this rule does not decide (trusted-or-NULL, RCU-or-NULL,
 * and `css.cgroup`, RCU in 7.2): walking one of them is never reported.
 */
const NOT_UNTRUSTED_FIELDS = new Set([
  'seq',
  'meta',
  'task',
  'file',
  'f_inode',
  'd_inode',
  'sk',
  'exe_file',
  'owner',
  'vm_mm',
  'vm_file',
  'cgroup',
]);
/** Program types whose BTF pointer arguments are trusted (prog_args_trusted(): tp_btf, iter, lsm, struct_ops). */
const TRUSTED_ARG_SECTIONS = /^(tp_btf|iter|iter\.s|lsm|lsm\.s|lsm_cgroup|struct_ops|struct_ops\.s)(\/|$)/;
/** Calls whose pointer value is a scalar to the verifier. */
const SCALAR_SOURCES = /^(BPF_CORE_READ|BPF_PROBE_READ|bpf_get_current_task)$/;

interface Store {
  at: Node;
  value: Node | null;
  uninitialised: boolean;
}

type Trust = 'trusted' | 'rcu' | 'untrusted' | 'scalar' | 'unknown';

interface Classified {
  trust: Trust;
  /** The walk or read that made it so (`parent->parent`, `BPF_CORE_READ(...)`). */
  origin?: Node;
}

const isSleepable = (p: BpfProgram) => !!p.def?.sleepable || p.def?.programType === 'syscall';

export const kfuncTrustedArgsRule: Rule = {
  id: 'kfunc-trusted-args',
  description: 'a walked, RCU or scalar pointer passed to a kfunc whose arguments must be trusted',
  ownFunctionOnly: true,
  functionFilter: /\bbpf_\w+\s*\(/,
  runFunction(ctx) {
    const { fn } = ctx;
    const body = field(fn, 'body');
    if (!body) return;
    const calls = syntaxIndex(ctx.doc)
      .in('call_expression', body)
      .filter((c) => !!kfuncByName(calleeName(c) ?? '')?.args.some((a) => isStructPointer(a.type)));
    if (!calls.length) return;
    new Checker(ctx, body).run(calls);
  },
};

/** `p` of the declarators `p`, `*p`, `**p`. */
function declaredName(d: Node | null): string | undefined {
  let cur = d;
  while (cur && ty(cur) === 'pointer_declarator') cur = field(cur, 'declarator');
  return identOf(cur);
}

function isStructPointer(type: string): boolean {
  return /^(const\s+)?struct\s+\w+\s*\*$/.test(type.trim());
}

class Checker {
  /**
   * Each local variable's stores, in text order: a declaration's or `=` assignment's value (null: an
   * assignment of another kind, or its address handed to a call, after which anything may be there).
   */
  private readonly values = new Map<string, Store[]>();
  private readonly trustedParams = new Set<string>();
  private readonly sleepable: boolean;
  private readonly rcuLocked: boolean;

  constructor(
    private readonly ctx: FunctionContext,
    body: Node,
  ) {
    const { doc, fn, programs } = ctx;
    const own = programs.find((p) => p.node.startIndex === fn.startIndex);
    // A program's own pointer arguments are trusted only in the program types the kernel trusts them in
    // (fentry/fexit arguments are not): BPF_PROG(name, struct task_struct *parent, ...).
    if (own && TRUSTED_ARG_SECTIONS.test(own.section)) {
      const header = doc.text.slice(fn.startIndex, body.startIndex);
      for (const m of header.matchAll(/\*\s*(\w+)\s*[,)]/g)) this.trustedParams.add(m[1]);
    }
    this.sleepable = programs.some(isSleepable);
    this.rcuLocked = /\bbpf_rcu_read_lock\s*\(/.test(body.text);
    const ix = syntaxIndex(doc);
    for (const d of ix.in('init_declarator', body)) {
      const name = d && declaredName(field(d, 'declarator'));
      if (d && name) this.note(name, d, field(d, 'value'));
    }
    for (const d of ix.in('declaration', body)) {
      for (const c of d ? kids(d) : []) {
        const name = ty(c) === 'pointer_declarator' ? identOf(field(c, 'declarator')) : undefined;
        if (name && !this.values.has(name)) this.note(name, c, null, true);
      }
    }
    for (const a of ix.in('assignment_expression', body)) {
      const name = a && identOf(field(a, 'left'));
      if (!a || !name || field(a, 'left')?.type !== 'identifier') continue;
      this.note(name, a, opOf(a) === '=' ? field(a, 'right') : null);
    }
    // Its address handed to a call: the callee may store anything there.
    for (const p of ix.in('pointer_expression', body)) {
      if (p && opOf(p) === '&' && p.parent?.type === 'argument_list')
        this.note(identOf(field(p, 'argument')) ?? '', p, null);
    }
    // A reassigned program argument is no longer known to be the argument.
    for (const name of this.trustedParams) if (this.values.has(name)) this.trustedParams.delete(name);
    for (const list of this.values.values()) list.sort((a, b) => a.at.startIndex - b.at.startIndex);
  }

  private note(name: string, at: Node, value: Node | null, uninitialised = false): void {
    const list = this.values.get(name) ?? [];
    list.push({ at, value, uninitialised });
    this.values.set(name, list);
  }

  /**
   * What `name` holds at `use`: the last store before it, when that store surely reaches it (a statement
   * of a block that encloses the use, and no later store in a loop around the use); else undefined.
   */
  private reaching(name: string, use: Node): Node | undefined {
    const list = this.values.get(name);
    if (!list) return undefined;
    const before = list.filter((v) => v.at.endIndex <= use.startIndex);
    const last = before.at(-1);
    if (!last || last.uninitialised || !last.value) return undefined;
    let stmt: Node | null = last.at;
    while (stmt && !/statement$|^declaration$/.test(ty(stmt))) stmt = stmt.parent;
    if (stmt?.type === 'expression_statement' && stmt.parent?.type === 'for_statement') return undefined;
    const block = stmt?.parent;
    if (
      !block ||
      ty(block) !== 'compound_statement' ||
      block.startIndex > use.startIndex ||
      block.endIndex < use.endIndex
    )
      return undefined;
    for (let up = use.parent; up && up.startIndex >= block.startIndex; up = up.parent) {
      if (!/^(for|while|do)_statement$/.test(ty(up))) continue;
      if (list.some((v) => v.at.startIndex > use.startIndex && v.at.endIndex <= up!.endIndex)) return undefined;
    }
    return last.value;
  }

  run(calls: Node[]): void {
    for (const call of calls) {
      const callee = calleeName(call)!;
      const k = kfuncByName(callee)!;
      for (const [i, arg] of callArgs(call).entries()) {
        const param = k.args[i];
        if (!param || !isStructPointer(param.type)) continue;
        const c = this.classify(arg, 0);
        this.judge(call, callee, k, i, arg, c);
      }
    }
  }

  private judge(call: Node, callee: string, k: Kfunc, i: number, arg: Node, c: Classified): void {
    const reg = `R${i + 1}`;
    const strict = !!k.trustedArgs || !!k.releases;
    const related = c.origin
      ? [{ start: c.origin.startIndex, end: c.origin.endIndex, message: this.originNote(c) }]
      : undefined;
    const at = { start: arg.startIndex, end: arg.endIndex };
    if (c.trust === 'scalar') {
      const struct = /struct\s+(\w+)/.exec(k.args[i].type)?.[1] ?? '';
      this.ctx.report({
        ...at,
        severity: 'error',
        message:
          `${callee}() needs a BTF pointer here, but '${arg.text}' was read with ${calleeName(c.origin!) ?? 'a probe read'}(): to the verifier it is a number (a scalar). ` +
          `It rejects the program ("arg#${i} pointer type STRUCT ${struct} must point to scalar, or struct with scalar"). ` +
          `Use a pointer the verifier knows: a tp_btf/iter/lsm program's argument, bpf_get_current_task_btf(), or what an acquire kfunc returned.`,
        related,
      });
      return;
    }
    if (c.trust === 'untrusted' && (strict || k.rcuArgs)) {
      const msg = strict ? `${reg} must be referenced or trusted` : `${reg} must be a rcu pointer`;
      this.ctx.report({
        ...at,
        severity: 'error',
        message:
          `${callee}() takes only ${strict ? 'trusted or referenced' : 'trusted, referenced or RCU-protected'} pointers (${k.releases ? 'KF_RELEASE' : strict ? 'KF_TRUSTED_ARGS' : 'KF_RCU'}), but '${arg.text}' is a field walked from another struct, which the verifier does not trust: ` +
          `it rejects the program ("${msg}"). Only a few walks keep the trust (task->real_parent, task->group_leader, task->cpus_ptr); ` +
          `get this object another way (bpf_task_from_pid(), bpf_get_current_task_btf(), the program's own argument).`,
        related,
      });
      return;
    }
    if (c.trust === 'untrusted') {
      this.ctx.report({
        ...at,
        severity: 'warning',
        message: `'${arg.text}' is a field walked from another struct, which the verifier does not trust. ${callee}() accepts it on 6.x kernels, but 7.x kernels require every kfunc pointer argument to be trusted ("${reg} must be referenced or trusted").`,
        related,
      });
      return;
    }
    if (c.trust === 'rcu' && strict) {
      this.ctx.report({
        ...at,
        severity: 'error',
        message:
          `${callee}() takes only trusted or referenced pointers (${k.releases ? 'KF_RELEASE: it releases a reference, and' : 'KF_TRUSTED_ARGS:'} '${arg.text}' is only RCU-protected, not a reference the program holds): ` +
          `the verifier rejects the program ("${reg} must be referenced or trusted"). ` +
          (k.releases
            ? `Release only what an acquire kfunc returned (p = bpf_task_acquire(${arg.text}); ... bpf_task_release(p)).`
            : `Acquire it first (bpf_task_acquire(${arg.text}), NULL-checked and released after).`),
        related,
      });
    }
  }

  private originNote(c: Classified): string {
    if (c.trust === 'scalar') return 'read here: a scalar, not a pointer';
    if (c.trust === 'rcu') return 'an RCU-protected walk: not a reference';
    return 'walked here from another struct: an untrusted pointer';
  }

  private classify(expr: Node, depth: number): Classified {
    const e = stripParens(stripCasts(expr));
    const t = ty(e);
    if (t === 'call_expression') {
      const callee = calleeName(e) ?? '';
      if (SCALAR_SOURCES.test(callee)) return { trust: 'scalar', origin: e };
      if (callee === 'bpf_get_current_task_btf') return { trust: 'trusted' };
      if (kfuncByName(callee)?.releasedBy) return { trust: 'trusted' };
      return { trust: 'unknown' };
    }
    if (t === 'identifier') {
      if (this.trustedParams.has(e.text)) return { trust: 'trusted' };
      const value = depth > 3 ? undefined : this.reaching(e.text, e);
      return value ? this.classify(value, depth + 1) : { trust: 'unknown' };
    }
    if (t === 'field_expression' && opOf(e) === '->') {
      const member = field(e, 'field')?.text ?? '';
      const base = this.classify(field(e, 'argument')!, depth + 1);
      if (base.trust === 'untrusted') return { trust: 'untrusted', origin: base.origin };
      if (base.trust !== 'trusted' && base.trust !== 'rcu') return { trust: 'unknown' };
      if (NOT_UNTRUSTED_FIELDS.has(member)) return { trust: 'unknown' };
      if (RCU_FIELDS.has(member)) {
        // Outside an RCU read section of a sleepable program the walk is untrusted; inside one, RCU.
        if (this.sleepable) return this.rcuLocked ? { trust: 'unknown' } : { trust: 'untrusted', origin: e };
        return { trust: 'rcu', origin: e };
      }
      return { trust: 'untrusted', origin: e };
    }
    return { trust: 'unknown' };
  }
}

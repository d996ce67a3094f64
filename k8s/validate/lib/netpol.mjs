// netpol.mjs — evaluates networking.k8s.io/v1 NetworkPolicies the way a conforming CNI does,
// for the peers the validator asks about:
//   {kind: "pod", ns, nsLabels, labels, ports: [{name, containerPort, protocol}]}  (a pod)
//   {kind: "ip", ip}                                                               (outside)
// Rules: a pod is isolated for a direction when some policy of its namespace selects it with
// that policyType; then only the union of the selecting policies' rules is allowed. Egress and
// ingress are checked separately; a connection between two pods needs both.

function selectorMatches(sel, labels) {
  if (!sel) return true;
  for (const [k, v] of Object.entries(sel.matchLabels || {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions || []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const v = labels[e.key];
    switch (e.operator) {
      case "In": if (!has || !e.values.includes(v)) return false; break;
      case "NotIn": if (has && e.values.includes(v)) return false; break;
      case "Exists": if (!has) return false; break;
      case "DoesNotExist": if (has) return false; break;
      default: throw new Error(`unknown selector operator ${e.operator}`);
    }
  }
  return true;
}
export { selectorMatches };

function ipToInt(ip) {
  const p = ip.split(".").map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) return null;
  return ((p[0] << 24) >>> 0) + (p[1] << 16) + (p[2] << 8) + p[3];
}

export function inCidr(ip, cidr) {
  const [base, bitsS] = cidr.split("/");
  const bits = Number(bitsS);
  const a = ipToInt(ip), b = ipToInt(base);
  if (a === null || b === null || !(bits >= 0 && bits <= 32)) return false;
  if (bits === 0) return true;
  const mask = (~0 << (32 - bits)) >>> 0;
  return ((a & mask) >>> 0) === ((b & mask) >>> 0);
}

function types(pol) {
  if (pol.spec.policyTypes) return pol.spec.policyTypes;
  return pol.spec.egress ? ["Ingress", "Egress"] : ["Ingress"];
}

function peerMatches(rulePeer, peer, policyNs) {
  if (rulePeer.ipBlock) {
    if (peer.kind !== "ip") return false; // pod IPs in ipBlocks: implementation-defined, never relied on
    if (!inCidr(peer.ip, rulePeer.ipBlock.cidr)) return false;
    return !(rulePeer.ipBlock.except || []).some((c) => inCidr(peer.ip, c));
  }
  if (peer.kind !== "pod") return false;
  if (rulePeer.namespaceSelector) {
    if (!selectorMatches(rulePeer.namespaceSelector, peer.nsLabels || {})) return false;
  } else if (peer.ns !== policyNs) return false;
  return rulePeer.podSelector ? selectorMatches(rulePeer.podSelector, peer.labels) : true;
}

// Does a rule's ports list admit (port, protocol) on the destination pod `dst` (named ports are
// resolved against the destination's container ports)?
function portMatches(rulePorts, port, protocol, dst) {
  if (!rulePorts || rulePorts.length === 0) return true;
  return rulePorts.some((rp) => {
    if ((rp.protocol || "TCP") !== protocol) return false;
    if (rp.port === undefined) return true;
    if (typeof rp.port === "number") return rp.endPort ? port >= rp.port && port <= rp.endPort : port === rp.port;
    if (!dst || dst.kind !== "pod") return false;
    return (dst.ports || []).some((p) => p.name === rp.port && p.containerPort === port && (p.protocol || "TCP") === protocol);
  });
}

export class NetPol {
  constructor(policies) {
    this.policies = policies; // NetworkPolicy objects
  }

  selecting(pod, type) {
    return this.policies.filter(
      (p) => (p.metadata.namespace || "") === pod.ns && types(p).includes(type) && selectorMatches(p.spec.podSelector, pod.labels),
    );
  }

  isolated(pod, type) {
    return this.selecting(pod, type).length > 0;
  }

  ingressAllowed(dst, src, port, protocol = "TCP") {
    const pols = this.selecting(dst, "Ingress");
    if (pols.length === 0) return true;
    return pols.some((p) =>
      (p.spec.ingress || []).some(
        (r) =>
          (!r.from || r.from.length === 0 || r.from.some((f) => peerMatches(f, src, p.metadata.namespace || ""))) &&
          portMatches(r.ports, port, protocol, dst),
      ),
    );
  }

  egressAllowed(src, dst, port, protocol = "TCP") {
    const pols = this.selecting(src, "Egress");
    if (pols.length === 0) return true;
    return pols.some((p) =>
      (p.spec.egress || []).some(
        (r) =>
          (!r.to || r.to.length === 0 || r.to.some((t) => peerMatches(t, dst, p.metadata.namespace || ""))) &&
          portMatches(r.ports, port, protocol, dst),
      ),
    );
  }

  // Both directions, for a connection from pod/ip src to pod/ip dst.
  allowed(src, dst, port, protocol = "TCP") {
    const out = src.kind === "pod" ? this.egressAllowed(src, dst, port, protocol) : true;
    const inn = dst.kind === "pod" ? this.ingressAllowed(dst, src, port, protocol) : true;
    return out && inn;
  }
}

#!/usr/bin/python3
"""A foreign gRPC client of the suite, in Python with Debian's python3-grpcio and
python3-protobuf and no generated code: the message classes come from the FileDescriptorSet
the build makes from the .proto files (SFP_DESCRIPTOR_SET), so every RPC of every service in
those files is called, whatever the protos hold.

Checks, against the real services (tests/e2e/foreign_clients.c starts them on a seeded demo
database and passes their addresses in SFP_ADDR_REPORT, _BRIEF, _CRON, _HEALTH):
  1. every unary RPC of every service answers OK (request fields filled where a valid value is
     needed: block/lot of a seeded parcel, a demo user's bearer token, CRON_SECRET, dry runs);
  2. a bad request gets the documented status code and message;
  3. server reflection (v1 and v1alpha) lists exactly the services each process serves and
     returns the file declaring each of them; an unknown symbol is an error_response NOT_FOUND;
  4. grpc.health.v1 Health/Watch sends SERVING at once, SERVICE_UNKNOWN for an unknown name,
     and, after SIGTERM of the report service (the driver sends it once SFP_WATCH_FILE says
     "watching"), NOT_SERVING and then the end of the stream.
Exit status 0 when everything holds; the first failed check is printed and exits 1."""
import os
import sys

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

TIMEOUT = 30.0
REFLECTION = ("grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection")
BUILT_IN = ("grpc.health.v1.Health", "sfpermits.v1.Introspection") + REFLECTION
OWNER = {  # service → the process that serves it (built-ins are served by every process)
    "sfpermits.v1.ReportService": "report",
    "sfpermits.v1.BriefService": "brief",
    "sfpermits.v1.CronService": "cron",
    "sfpermits.v1.HealthService": "health",
}
# Valid values for request fields, by method; a field missing from the proto is skipped.
REQUEST_FIELDS = {
    "GetPropertyReport": {"block": "3512", "lot": "001"},
    "SearchParcels": {"q": "1600 Mission St"},
    "GetBrief": {"lookback_days": 7},
    "RunNightly": {"dry_run": True},
    "RunComputeCaches": {"concurrency": 2},
}


def fail(msg):
    print("grpc_client.py: FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def load_pool(path):
    fds = descriptor_pb2.FileDescriptorSet()
    with open(path, "rb") as f:
        fds.ParseFromString(f.read())
    pool = descriptor_pool.DescriptorPool()
    for fd in fds.file:
        pool.Add(fd)
    return fds, pool, message_factory.MessageFactory(pool)


def metadata(service, rid):
    md = [("x-request-id", rid)]
    if service == "sfpermits.v1.BriefService":
        md.append(("authorization", "Bearer " + os.environ.get("SFP_BRIEF_TOKEN", "demo-token-alice")))
    if service == "sfpermits.v1.CronService":
        md.append(("authorization", "Bearer " + os.environ["SFP_CRON_SECRET"]))
    return md


def bad_request_fields(pool, factory, err):
    """Fields named by the BadRequest details of a failed call's google.rpc.Status."""
    raw = dict(err.trailing_metadata() or ()).get("grpc-status-details-bin")
    if raw is None:
        fail("%s: no grpc-status-details-bin trailer" % err.code())
    status = factory.GetPrototype(pool.FindMessageTypeByName("google.rpc.Status"))()
    status.ParseFromString(raw)
    if status.code != err.code().value[0]:
        fail("google.rpc.Status code %d differs from grpc-status %s" % (status.code, err.code()))
    fields = []
    for detail in status.details:
        if detail.type_url.endswith("/google.rpc.BadRequest"):
            br = factory.GetPrototype(pool.FindMessageTypeByName("google.rpc.BadRequest"))()
            br.ParseFromString(detail.value)
            fields += [v.field for v in br.field_violations]
    return fields


def build_request(factory, method):
    req = factory.GetPrototype(method.input_type)()
    for name, value in REQUEST_FIELDS.get(method.name, {}).items():
        if name in method.input_type.fields_by_name:
            setattr(req, name, value)
    return req


def unary(channel, factory, method):
    return channel.unary_unary(
        "/%s/%s" % (method.containing_service.full_name, method.name),
        request_serializer=lambda m: m.SerializeToString(),
        response_deserializer=factory.GetPrototype(method.output_type).FromString,
    )


def reflection_call(channel, factory, pool, service, requests):
    m = pool.FindServiceByName(service).methods_by_name["ServerReflectionInfo"]
    call = channel.stream_stream(
        "/%s/ServerReflectionInfo" % service,
        request_serializer=lambda x: x.SerializeToString(),
        response_deserializer=factory.GetPrototype(m.output_type).FromString,
    )
    req_cls = factory.GetPrototype(m.input_type)
    return list(call(iter([req_cls(**r) for r in requests]), timeout=TIMEOUT))


def check_reflection(channel, factory, pool, proc, expected):
    for svc in REFLECTION:
        reqs = [{"list_services": ""}] + [{"file_containing_symbol": s} for s in sorted(expected)]
        reqs += [{"file_containing_symbol": "sfpermits.v1.NoSuchThing"}, {"file_by_filename": "no/such.proto"}]
        out = reflection_call(channel, factory, pool, svc, reqs)
        if len(out) != len(reqs):
            fail("%s %s: %d responses to %d requests" % (proc, svc, len(out), len(reqs)))
        listed = {s.name for s in out[0].list_services_response.service}
        if listed != expected:
            fail("%s %s list_services: got %s, want %s" % (proc, svc, sorted(listed), sorted(expected)))
        for name, resp in zip(sorted(expected), out[1:]):
            files = resp.file_descriptor_response.file_descriptor_proto
            if not files:
                fail("%s %s: no file for %s (%s)" % (proc, svc, name, resp))
            fd = descriptor_pb2.FileDescriptorProto.FromString(files[0])
            if name not in {"%s.%s" % (fd.package, s.name) for s in fd.service}:
                fail("%s %s: file %s does not declare %s" % (proc, svc, fd.name, name))
            known = {descriptor_pb2.FileDescriptorProto.FromString(b).name for b in files}
            missing = [d for d in fd.dependency if d not in known]
            if missing:
                fail("%s %s: %s sent without its imports %s" % (proc, svc, fd.name, missing))
        for resp in out[-2:]:
            if resp.error_response.error_code != grpc.StatusCode.NOT_FOUND.value[0]:
                fail("%s %s: unknown name answered %s" % (proc, svc, resp))
    print("reflection %-7s %s" % (proc, ", ".join(sorted(expected))))


def nullable_presence(msg, seen):
    """Walks msg: every nullable value is the only member of a oneof named optional_<name> (what
    proto3 `optional` compiles to), so HasField(name) tells a value from an absent one. Counts
    (present, absent) into seen."""
    for f in msg.DESCRIPTOR.fields:
        o = f.containing_oneof
        if o is not None and len(o.fields) == 1:
            if o.name != "optional_" + f.name:
                fail("%s: oneof %s of one field is not optional_%s" % (msg.DESCRIPTOR.full_name, o.name, f.name))
            has = msg.HasField(f.name)
            if has != (msg.WhichOneof(o.name) == f.name):
                fail("%s.%s: HasField and WhichOneof disagree" % (msg.DESCRIPTOR.full_name, f.name))
            seen[0 if has else 1] += 1
        if f.message_type is not None and not f.message_type.GetOptions().map_entry:
            if f.label == f.LABEL_REPEATED:
                for sub in getattr(msg, f.name):
                    nullable_presence(sub, seen)
            elif msg.HasField(f.name):
                nullable_presence(getattr(msg, f.name), seen)


def enum_name(msg, field):
    """The proto name of an enum field's value (e.g. SEARCH_KIND_ADDRESS), from the descriptor."""
    e = msg.DESCRIPTOR.fields_by_name[field].enum_type
    if e is None:
        fail("%s.%s is not an enum" % (msg.DESCRIPTOR.full_name, field))
    v = e.values_by_number.get(getattr(msg, field))
    return v.name if v else None


def check_typed(name, resp):
    """Typed contracts as a foreign client sees them: nullable values with presence, closed sets
    as enums by name."""
    if name == "GetPropertyReport":
        seen = [0, 0]
        nullable_presence(resp.report, seen)
        if seen[0] == 0 or seen[1] == 0:
            fail("GetPropertyReport: nullable values present/absent %s: want both" % seen)
        for r in resp.report.risk_assessment:
            n = enum_name(r, "risk_type")
            if not n or not n.startswith("RISK_TYPE_") or n == "RISK_TYPE_UNSPECIFIED":
                fail("GetPropertyReport: risk_type %r is not a RiskType value" % n)
        print("report: %d nullable values present, %d absent (HasField); risk types by name" % tuple(seen))
    if name == "SearchParcels" and enum_name(resp, "kind") != "SEARCH_KIND_ADDRESS":
        fail("SearchParcels 1600 Mission St: kind %r, want SEARCH_KIND_ADDRESS" % enum_name(resp, "kind"))


def check_envelope(name, resp):
    """The read RPCs answer {content, metadata}: the content decodes as its own message and the
    metadata carries the content's etag (32 hex), generated_at and, for a report, its sources."""
    if name not in ("GetPropertyReport", "GetBrief"):
        return
    content = resp.report if name == "GetPropertyReport" else resp.brief
    md = resp.metadata
    if name == "GetPropertyReport" and (content.block, content.lot) != ("3512", "001"):
        fail("GetPropertyReport: report is %s/%s" % (content.block, content.lot))
    if name == "GetBrief" and content.lookback_days != 7:
        fail("GetBrief: brief.lookback_days is %d" % content.lookback_days)
    if len(md.etag) != 32 or any(c not in "0123456789abcdef" for c in md.etag) or not md.generated_at:
        fail("%s: metadata etag %r generated_at %r" % (name, md.etag, md.generated_at))
    if name == "GetPropertyReport" and sorted(md.sources) != ["complaints", "tax_roll", "violations"]:
        fail("GetPropertyReport: metadata sources %s" % sorted(md.sources))


def first_watch_status(channel, factory, pool, name):
    m = pool.FindServiceByName("grpc.health.v1.Health").methods_by_name["Watch"]
    call = channel.unary_stream(
        "/grpc.health.v1.Health/Watch",
        request_serializer=lambda x: x.SerializeToString(),
        response_deserializer=factory.GetPrototype(m.output_type).FromString,
    )
    stream = call(factory.GetPrototype(m.input_type)(service=name), timeout=TIMEOUT)
    return stream, next(stream), m.output_type.fields_by_name["status"].enum_type.values_by_name


def main():
    fds, pool, factory = load_pool(os.environ["SFP_DESCRIPTOR_SET"])
    addrs = {p: os.environ["SFP_ADDR_" + p.upper()] for p in ("report", "brief", "cron", "health")}
    channels = {p: grpc.insecure_channel(a) for p, a in addrs.items()}
    calls = 0
    for fd in fds.file:
        for sd in fd.service:
            service = pool.FindServiceByName("%s.%s" % (fd.package, sd.name))
            procs = list(addrs) if service.full_name in BUILT_IN else [OWNER[service.full_name]]
            for method in service.methods:
                for proc in procs:
                    ch = channels[proc]
                    rid = "py-%s-%s" % (proc, method.name)
                    if method.client_streaming or method.server_streaming:
                        continue  # streaming RPCs: reflection and Watch, checked below
                    try:
                        resp = unary(ch, factory, method)(build_request(factory, method), timeout=TIMEOUT,
                                                          metadata=metadata(service.full_name, rid))
                    except grpc.RpcError as e:
                        fail("%s %s: %s %s" % (proc, method.full_name, e.code(), e.details()))
                    check_envelope(method.name, resp)
                    check_typed(method.name, resp)
                    if method.full_name == "sfpermits.v1.HealthService.GetHealth":
                        # Closed sets are enums in the contract: status is a SuiteStatus value.
                        enum = resp.DESCRIPTOR.fields_by_name["status"].enum_type
                        name = enum.values_by_number[resp.status].name if resp.status in enum.values_by_number else None
                        if enum.name != "SuiteStatus" or name not in ("SUITE_STATUS_OK", "SUITE_STATUS_DEGRADED"):
                            fail("GetHealth: status %r is not a SuiteStatus value" % (name or resp.status))
                    calls += 1
                    print("ok %-7s %s" % (proc, method.full_name))

    # A bad request: the status code and message the proto documents.
    report = pool.FindServiceByName("sfpermits.v1.ReportService").methods_by_name["GetPropertyReport"]
    bad = factory.GetPrototype(report.input_type)(block="35x2", lot="001")
    try:
        unary(channels["report"], factory, report)(bad, timeout=TIMEOUT)
        fail("GetPropertyReport block=35x2 answered OK")
    except grpc.RpcError as e:
        if e.code() != grpc.StatusCode.INVALID_ARGUMENT or "block" not in e.details():
            fail("GetPropertyReport block=35x2: %s %s" % (e.code(), e.details()))
        # Rich error details: a google.rpc.Status in grpc-status-details-bin whose BadRequest names
        # the field, decoded with the types from the descriptor set alone.
        violations = bad_request_fields(pool, factory, e)
        if "block" not in violations:
            fail("GetPropertyReport block=35x2: no BadRequest violation of block (got %s)" % violations)
    brief = pool.FindServiceByName("sfpermits.v1.BriefService").methods_by_name["GetBrief"]
    try:
        unary(channels["brief"], factory, brief)(build_request(factory, brief), timeout=TIMEOUT)
        fail("GetBrief without a token answered OK")
    except grpc.RpcError as e:
        if e.code() != grpc.StatusCode.UNAUTHENTICATED:
            fail("GetBrief without a token: %s %s" % (e.code(), e.details()))

    for proc in addrs:
        served = {s for s, p in OWNER.items() if p == proc} | set(BUILT_IN)
        check_reflection(channels[proc], factory, pool, proc, served)

    stream, first, values = first_watch_status(channels["report"], factory, pool, "nope.NoSuchService")
    if first.status != values["SERVICE_UNKNOWN"].number:
        fail("Watch of an unknown service: %s" % first)
    stream.cancel()
    stream, first, values = first_watch_status(channels["report"], factory, pool, "sfpermits.v1.ReportService")
    if first.status != values["SERVING"].number:
        fail("Watch sfpermits.v1.ReportService: first status %s" % first)
    with open(os.environ["SFP_WATCH_FILE"], "w") as f:
        f.write("watching\n")
    try:
        nxt = next(stream)
    except StopIteration:
        fail("Watch ended without NOT_SERVING")
    except grpc.RpcError as e:
        fail("Watch ended without NOT_SERVING: %s %s" % (e.code(), e.details()))
    if nxt.status != values["NOT_SERVING"].number:
        fail("Watch after SIGTERM: %s" % nxt)
    try:
        extra = next(stream)
        fail("Watch sent more after NOT_SERVING: %s" % extra)
    except StopIteration:
        pass  # ended with OK
    except grpc.RpcError as e:
        fail("Watch after NOT_SERVING ended with %s %s, not OK" % (e.code(), e.details()))
    print("watch: SERVING, then NOT_SERVING on drain, then the end of the stream")
    print("%d unary calls ok" % calls)


if __name__ == "__main__":
    main()

// Command protogen writes src/proto_schema_gen.c: the protobuf wire layout
// and JSON form of every type registered in client-go's scheme (plus the
// apiextensions and kube-aggregator schemes), as the tables of src/proto.h.
// Run it through tools/gen-proto-schema.sh, which builds it against the
// pinned k8s.io modules; it prints the C file on stdout.
//
// It walks the Go types with reflect: the protobuf struct tags give the
// field numbers, the json tags the JSON names and options. Every message is
// checked against the generated.proto of its package (read from the module
// cache), which is what the generated Marshal code follows: the wire type
// and label come from there, since a few hundred struct tags are stale
// (e.g. "bytes" on int32 and bool fields, "rep" on single messages).
// Anything it cannot express in the table (interfaces, non-string map keys,
// custom JSON forms other than the known special types, a Go type that
// disagrees with generated.proto, a field on one side only, ...) is an error
// naming the type and field.
//
//	protogen -modcache DIR          the C file on stdout
//	protogen -modcache DIR -stats   also notes on stderr (stale tags, options
//	                                seen, JSON key order, ...)
package main

import (
	"bufio"
	"encoding"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"

	aggscheme "k8s.io/kube-aggregator/pkg/client/clientset_generated/clientset/scheme"

	extscheme "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset/scheme"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kscheme "k8s.io/client-go/kubernetes/scheme"
)

const (
	metaPkg = "k8s.io/apimachinery/pkg/apis/meta/v1"
	extV1   = "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	extV1b1 = "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1beta1"
)

// The types with their own JSON form: their kind in proto.h.
var specials = map[string]string{
	metaPkg + ".Time":                                 "K8S_PB_TIME",
	metaPkg + ".MicroTime":                            "K8S_PB_MICROTIME",
	metaPkg + ".Duration":                             "K8S_PB_DURATION",
	"k8s.io/apimachinery/pkg/api/resource.Quantity":   "K8S_PB_QUANTITY",
	"k8s.io/apimachinery/pkg/util/intstr.IntOrString": "K8S_PB_INTORSTRING",
	"k8s.io/apimachinery/pkg/runtime.RawExtension":    "K8S_PB_RAWEXT",
	metaPkg + ".FieldsV1":                             "K8S_PB_RAWJSON",
	extV1 + ".JSON":                                   "K8S_PB_RAWJSON",
	extV1b1 + ".JSON":                                 "K8S_PB_RAWJSON",
	extV1 + ".JSONSchemaPropsOrArray":                 "K8S_PB_SCHEMA_OR_ARRAY",
	extV1b1 + ".JSONSchemaPropsOrArray":               "K8S_PB_SCHEMA_OR_ARRAY",
	extV1 + ".JSONSchemaPropsOrBool":                  "K8S_PB_SCHEMA_OR_BOOL",
	extV1b1 + ".JSONSchemaPropsOrBool":                "K8S_PB_SCHEMA_OR_BOOL",
	extV1 + ".JSONSchemaPropsOrStringArray":           "K8S_PB_SCHEMA_OR_STRINGS",
	extV1b1 + ".JSONSchemaPropsOrStringArray":         "K8S_PB_SCHEMA_OR_STRINGS",
}

// The protobuf layout proto.h assumes for the special types, as their
// generated.proto messages ("number label type", message types by their last
// name component); checked so that a change upstream fails here.
var specialProto = map[string]string{
	metaPkg + ".Time":                                 "1 optional int64; 2 optional int32",
	metaPkg + ".MicroTime":                            "1 optional int64; 2 optional int32",
	metaPkg + ".Duration":                             "1 optional int64",
	"k8s.io/apimachinery/pkg/api/resource.Quantity":   "1 optional string",
	"k8s.io/apimachinery/pkg/util/intstr.IntOrString": "1 optional int64; 2 optional int32; 3 optional string",
	"k8s.io/apimachinery/pkg/runtime.RawExtension":    "1 optional bytes",
	metaPkg + ".FieldsV1":                             "1 optional bytes",
	extV1 + ".JSON":                                   "1 optional bytes",
	extV1b1 + ".JSON":                                 "1 optional bytes",
	extV1 + ".JSONSchemaPropsOrArray":                 "1 optional JSONSchemaProps; 2 repeated JSONSchemaProps",
	extV1b1 + ".JSONSchemaPropsOrArray":               "1 optional JSONSchemaProps; 2 repeated JSONSchemaProps",
	extV1 + ".JSONSchemaPropsOrBool":                  "1 optional bool; 2 optional JSONSchemaProps",
	extV1b1 + ".JSONSchemaPropsOrBool":                "1 optional bool; 2 optional JSONSchemaProps",
	extV1 + ".JSONSchemaPropsOrStringArray":           "1 optional JSONSchemaProps; 2 repeated string",
	extV1b1 + ".JSONSchemaPropsOrStringArray":         "1 optional JSONSchemaProps; 2 repeated string",
}

var (
	jsonMarshaler = reflect.TypeOf((*json.Marshaler)(nil)).Elem()
	textMarshaler = reflect.TypeOf((*encoding.TextMarshaler)(nil)).Elem()
)

type field struct {
	json  string
	num   uint32
	kind  string
	msg   string // message name for message-like kinds
	flags []string
	goPos int // position in the Go struct (JSON key order of encoding/json)
}

type message struct {
	name   string
	array  bool // a named slice wrapper {repeated items = 1}
	fields []field
	goType reflect.Type
}

type gen struct {
	msgs    map[string]*message
	queue   []reflect.Type
	skipped []string            // fields without a protobuf tag that are carried by nothing
	noTag   map[string][]string // accepted untagged fields (TypeMeta, json:"-"), for -stats
	custom  map[string]string   // json.Marshaler types met -> kind
	stale   []string            // struct tags that disagree with generated.proto
	db      *protoDB
	notes   map[string][]string // -stats notes by topic
}

func typeName(t reflect.Type) string { return t.PkgPath() + "." + t.Name() }

func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "protogen: error: "+format+"\n", a...)
	os.Exit(1)
}

func (g *gen) note(topic, s string) {
	for _, x := range g.notes[topic] {
		if x == s {
			return
		}
	}
	g.notes[topic] = append(g.notes[topic], s)
}

// hasCustomJSON: the type (or its pointer) writes its own JSON.
func hasCustomJSON(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	return t.Implements(jsonMarshaler) || p.Implements(jsonMarshaler) ||
		t.Implements(textMarshaler) || p.Implements(textMarshaler)
}

// checkPlain fails when a named type other than the specials has a custom JSON form.
func (g *gen) checkPlain(t reflect.Type, where string) {
	if t.Name() == "" {
		return
	}
	if _, ok := specials[typeName(t)]; ok {
		return
	}
	if hasCustomJSON(t) {
		fail("%s: type %s has a custom JSON form (json.Marshaler or encoding.TextMarshaler) that the table cannot express", where, typeName(t))
	}
}

// message registers a struct type (walked later) and returns its name.
func (g *gen) message(t reflect.Type) string {
	n := typeName(t)
	if _, ok := g.msgs[n]; !ok {
		g.msgs[n] = &message{name: n, goType: t}
		g.queue = append(g.queue, t)
	}
	return n
}

// wrapper registers the synthetic message of a named slice type: on the
// wire a message {repeated items = 1} (generated.proto says so), in JSON
// the array itself.
func (g *gen) wrapper(t reflect.Type, where string) string {
	n := typeName(t)
	if m, ok := g.msgs[n]; ok {
		return m.name
	}
	g.checkPlain(t, where)
	if t.Name() == "" {
		fail("%s: %s is an unnamed slice where generated.proto has a message", where, t)
	}
	e := t.Elem()
	if e.Kind() == reflect.Slice && e.Elem().Kind() != reflect.Uint8 || e.Kind() == reflect.Pointer || e.Kind() == reflect.Map || e.Kind() == reflect.Interface {
		fail("%s: named slice %s has elements of type %s, which the wrapper message cannot express", where, n, e)
	}
	pm := g.db.msg(t, where)
	pf, ok := pm.fields[1]
	if len(pm.fields) != 1 || !ok || pf.label != "repeated" || pf.name != "items" {
		fail("%s: generated.proto message %s is not {repeated items = 1}", where, protoName(t))
	}
	kind, msg, fl := g.scalar(e, protoWire(pf.typ), where+" (items of "+n+")")
	g.checkProtoType(kind, fl, e, pf, where+" (items of "+n+")")
	g.msgs[n] = &message{name: n, array: true, fields: []field{{
		json: "", num: 1, kind: kind, msg: msg, flags: append(fl, "K8S_PBF_REPEATED"),
	}}}
	g.note("named slice wrappers", n+" (items: "+e.String()+")")
	return n
}

// kindWire: the wire type a kind needs (zigzag aside).
func kindWire(kind string) string {
	switch kind {
	case "K8S_PB_BOOL", "K8S_PB_INT32", "K8S_PB_INT64", "K8S_PB_UINT32", "K8S_PB_UINT64":
		return "varint"
	case "K8S_PB_DOUBLE":
		return "fixed64"
	case "K8S_PB_FLOAT":
		return "fixed32"
	}
	return "bytes"
}

// scalar maps a non-container Go type (struct, string, number, []byte) with
// its wire type to a kind, its message and flags (ZIGZAG).
func (g *gen) scalar(t reflect.Type, wire, where string) (kind, msg string, flags []string) {
	if t.Kind() == reflect.Struct {
		if k, ok := specials[typeName(t)]; ok {
			kind = k
			if _, seen := g.custom[typeName(t)]; !seen {
				g.custom[typeName(t)] = k
				g.checkSpecial(t, where)
			}
			if strings.HasPrefix(k, "K8S_PB_SCHEMA_OR_") {
				msg = g.message(schemaProps(t, where))
			}
		} else {
			g.checkPlain(t, where)
			kind, msg = "K8S_PB_MESSAGE", g.message(t)
		}
		if wire != "bytes" {
			fail("%s: %s is a message but its protobuf wire type is %q", where, typeName(t), wire)
		}
		return
	}
	g.checkPlain(t, where)
	switch t.Kind() {
	case reflect.String:
		kind = "K8S_PB_STRING"
	case reflect.Bool:
		kind = "K8S_PB_BOOL"
	case reflect.Int32:
		kind = "K8S_PB_INT32"
		if wire == "zigzag32" {
			return kind, "", []string{"K8S_PBF_ZIGZAG"}
		}
	case reflect.Int64, reflect.Int:
		kind = "K8S_PB_INT64"
		if t.Kind() == reflect.Int {
			g.note("int/uint fields", where+" ("+t.String()+", "+wire+")")
		}
		if wire == "zigzag64" {
			return kind, "", []string{"K8S_PBF_ZIGZAG"}
		}
	case reflect.Uint32:
		kind = "K8S_PB_UINT32"
	case reflect.Uint64, reflect.Uint:
		kind = "K8S_PB_UINT64"
		if t.Kind() == reflect.Uint {
			g.note("int/uint fields", where+" ("+t.String()+", "+wire+")")
		}
	case reflect.Float64:
		kind = "K8S_PB_DOUBLE"
		g.note("float fields", where+" ("+t.String()+", "+wire+")")
	case reflect.Float32:
		kind = "K8S_PB_FLOAT"
		g.note("float fields", where+" ("+t.String()+", "+wire+")")
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			g.checkPlain(t.Elem(), where)
			kind = "K8S_PB_BYTES"
			break
		}
		fallthrough
	default:
		fail("%s: Go type %s (kind %s) cannot be expressed in the table", where, t, t.Kind())
	}
	if need := kindWire(kind); need != wire {
		fail("%s: Go type %s needs protobuf wire %q, the protobuf form is %q", where, t, need, wire)
	}
	return kind, "", nil
}

// schemaProps: the JSONSchemaProps type of a JSONSchemaPropsOr* type's package.
func schemaProps(t reflect.Type, where string) reflect.Type {
	for i := 0; i < t.NumField(); i++ {
		ft := t.Field(i).Type
		for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && ft.PkgPath() == t.PkgPath() && ft.Name() == "JSONSchemaProps" {
			return ft
		}
	}
	fail("%s: %s has no JSONSchemaProps field", where, typeName(t))
	return nil
}

// checkSpecial: a special type's generated.proto message has the layout proto.h assumes.
func (g *gen) checkSpecial(t reflect.Type, where string) {
	pm := g.db.msg(t, where)
	var nums []int
	for n := range pm.fields {
		nums = append(nums, int(n))
	}
	sort.Ints(nums)
	var parts []string
	for _, n := range nums {
		f := pm.fields[uint32(n)]
		ty := f.typ
		if i := strings.LastIndexByte(ty, '.'); i >= 0 {
			ty = ty[i+1:]
		}
		parts = append(parts, fmt.Sprintf("%d %s %s", n, f.label, ty))
	}
	if got, want := strings.Join(parts, "; "), specialProto[typeName(t)]; got != want {
		fail("%s: generated.proto message %s is {%s}, proto.h assumes {%s}", where, protoName(t), got, want)
	}
}

// checkProtoType: the generated.proto type of a field (or map value, or
// repeated element) is the one the kind reads.
func (g *gen) checkProtoType(kind string, flags []string, t reflect.Type, pf pField, where string) {
	want := ""
	zig := len(flags) > 0 && flags[0] == "K8S_PBF_ZIGZAG"
	switch kind {
	case "K8S_PB_STRING":
		want = "string"
	case "K8S_PB_BYTES":
		want = "bytes"
	case "K8S_PB_BOOL":
		want = "bool"
	case "K8S_PB_INT32":
		want = map[bool]string{false: "int32", true: "sint32"}[zig]
	case "K8S_PB_INT64":
		want = map[bool]string{false: "int64", true: "sint64"}[zig]
	case "K8S_PB_UINT32":
		want = "uint32"
	case "K8S_PB_UINT64":
		want = "uint64"
	case "K8S_PB_DOUBLE":
		want = "double"
	case "K8S_PB_FLOAT":
		want = "float"
	default: // message-like
		want = protoName(t)
	}
	if pf.typ != want {
		// int32 Go values in an int64 proto field (or the reverse) read the same varint
		fail("%s: generated.proto field %s has type %s, the Go type %s reads as %s", where, pf.name, pf.typ, t, want)
	}
}

type pbTag struct {
	wire, label, name string
	num               uint32
	opts              []string
}

func parsePB(tag string) (pbTag, error) {
	parts := strings.Split(tag, ",")
	var p pbTag
	if len(parts) < 2 {
		return p, fmt.Errorf("short protobuf tag %q", tag)
	}
	p.wire = parts[0]
	switch p.wire {
	case "bytes", "varint", "fixed64", "fixed32", "zigzag32", "zigzag64":
	default:
		return p, fmt.Errorf("unknown wire type in protobuf tag %q", tag)
	}
	n, err := strconv.ParseUint(parts[1], 10, 32)
	if err != nil || n == 0 || n > 536870911 {
		return p, fmt.Errorf("bad field number in protobuf tag %q", tag)
	}
	p.num = uint32(n)
	for _, s := range parts[2:] {
		switch {
		case s == "opt" || s == "rep" || s == "req":
			p.label = s
		case strings.HasPrefix(s, "name="):
			p.name = s[5:]
		default:
			p.opts = append(p.opts, s)
		}
	}
	return p, nil
}

func hasFlag(flags []string, f string) bool {
	for _, x := range flags {
		if x == f {
			return true
		}
	}
	return false
}

// walk fills the fields of a struct message from its Go fields, checked
// against its generated.proto message.
func (g *gen) walk(t reflect.Type) {
	m := g.msgs[typeName(t)]
	pm := g.db.msg(t, typeName(t))
	seen := map[uint32]string{}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		where := typeName(t) + "." + sf.Name
		jtag := sf.Tag.Get("json")
		ptag, hasPB := sf.Tag.Lookup("protobuf")
		if !sf.IsExported() {
			if hasPB {
				fail("%s: unexported field with a protobuf tag", where)
			}
			if sf.Anonymous {
				fail("%s: unexported embedded field (encoding/json would promote its fields)", where)
			}
			continue
		}
		if jtag == "-" {
			if hasPB {
				fail("%s: json:\"-\" field with a protobuf tag (on the wire, not in JSON)", where)
			}
			g.noTag[typeName(t)] = append(g.noTag[typeName(t)], sf.Name+` (json:"-")`)
			continue
		}
		if !hasPB {
			if sf.Anonymous && typeName(sf.Type) == metaPkg+".TypeMeta" {
				g.noTag[typeName(t)] = append(g.noTag[typeName(t)], sf.Name+" (TypeMeta)")
				continue
			}
			g.skipped = append(g.skipped, fmt.Sprintf("%s (%s, json %q)", where, sf.Type, jtag))
			continue
		}
		p, err := parsePB(ptag)
		if err != nil {
			fail("%s: %v", where, err)
		}
		for _, o := range p.opts {
			k := o
			if i := strings.IndexByte(o, '='); i >= 0 {
				k = o[:i+1]
			}
			g.note("protobuf tag options", k)
			if o == "packed" {
				g.note("packed repeated fields", where)
			}
		}
		if _, ok := sf.Tag.Lookup("protobuf_oneof"); ok {
			fail("%s: protobuf_oneof is not supported", where)
		}
		if prev, dup := seen[p.num]; dup {
			fail("%s: protobuf field number %d also used by %s", where, p.num, prev)
		}
		seen[p.num] = sf.Name

		// the generated.proto field of that number: the real wire form
		pf, ok := pm.fields[p.num]
		if !ok {
			fail("%s: protobuf field number %d is not in generated.proto message %s", where, p.num, protoName(t))
		}
		if p.name != "" && p.name != pf.name {
			fail("%s: protobuf tag name %q, generated.proto field %d is %q", where, p.name, p.num, pf.name)
		}
		wire := "bytes"
		if pf.label != "map" {
			wire = protoWire(pf.typ)
		}
		tagLabel := map[string]string{"": "optional", "opt": "optional", "req": "required", "rep": "repeated"}[p.label]
		pfLabel := pf.label
		if pfLabel == "map" {
			pfLabel = "repeated"
		}
		if p.wire != wire || tagLabel != pfLabel {
			g.stale = append(g.stale, fmt.Sprintf("%s: tag %q, generated.proto %s %s %s = %d", where, ptag, pf.label, pf.typ, pf.name, pf.num))
		}
		if p.label == "" {
			g.note("protobuf tags without a label", where)
		}

		f := field{num: p.num, goPos: i}
		// json name and options
		name, opts, _ := strings.Cut(jtag, ",")
		inline := false
		for _, o := range strings.Split(opts, ",") {
			switch o {
			case "":
			case "omitempty":
				f.flags = append(f.flags, "K8S_PBF_OMITEMPTY")
			case "omitzero":
				f.flags = append(f.flags, "K8S_PBF_OMITZERO")
				g.note("omitzero fields", where)
			case "inline":
				inline = true
			case "string":
				fail("%s: json \",string\" option is not supported", where)
			default:
				fail("%s: unknown json option %q", where, o)
			}
		}
		if name == "" {
			if sf.Anonymous || inline {
				inline = true
			} else {
				name = sf.Name
				g.note("fields named by their Go name (no json name)", where)
			}
		} else if inline {
			// encoding/json ignores ",inline": a named field stays a named field
			fail("%s: json tag %q has both a name and inline", where, jtag)
		}
		f.json = name

		ft := sf.Type
		if ft.Kind() == reflect.Pointer {
			f.flags = append(f.flags, "K8S_PBF_POINTER")
			ft = ft.Elem()
			if ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Map || ft.Kind() == reflect.Interface ||
				ft.Kind() == reflect.Slice && ft.Elem().Kind() != reflect.Uint8 && pf.label != "optional" {
				fail("%s: pointer to %s cannot be expressed", where, ft)
			}
		}
		if inline {
			if ft.Kind() != reflect.Struct {
				fail("%s: inline field of non-struct type %s", where, ft)
			}
			if _, ok := specials[typeName(ft)]; ok {
				fail("%s: inline field of special type %s", where, typeName(ft))
			}
			f.flags = append(f.flags, "K8S_PBF_INLINE")
			f.json = ""
		}
		var kind, msg string
		var fl []string
		switch {
		case ft.Kind() == reflect.Map:
			g.checkPlain(ft, where)
			f.flags = append(f.flags, "K8S_PBF_MAP")
			if ft.Key().Kind() != reflect.String {
				fail("%s: map key type %s is not a string", where, ft.Key())
			}
			g.checkPlain(ft.Key(), where+" (map key)")
			if pf.label != "map" || pf.keyType != "string" {
				fail("%s: Go map, generated.proto field is %s %s %s", where, pf.label, pf.keyType, pf.typ)
			}
			if k, ok := sf.Tag.Lookup("protobuf_key"); ok {
				kp, err := parsePB(k)
				if err != nil || kp.num != 1 || kp.wire != "bytes" {
					fail("%s: protobuf_key %q is not bytes,1", where, k)
				}
			}
			if v, ok := sf.Tag.Lookup("protobuf_val"); ok {
				vp, err := parsePB(v)
				if err != nil || vp.num != 2 {
					fail("%s: protobuf_val %q is not field 2", where, v)
				}
				if vp.wire != protoWire(pf.typ) {
					g.stale = append(g.stale, fmt.Sprintf("%s: protobuf_val %q, generated.proto value %s", where, v, pf.typ))
				}
			} else {
				g.note("map fields without protobuf_key/protobuf_val tags (generated.proto map<string, V>: entry {key=1, value=2})", where)
			}
			vt := ft.Elem()
			switch {
			case vt.Kind() == reflect.Pointer || vt.Kind() == reflect.Map || vt.Kind() == reflect.Interface:
				fail("%s: map value type %s cannot be expressed", where, vt)
			case vt.Kind() == reflect.Slice && vt.Elem().Kind() != reflect.Uint8:
				kind, msg = "K8S_PB_MESSAGE", g.wrapper(vt, where)
				g.checkProtoType(kind, nil, vt, pf, where)
			default:
				kind, msg, fl = g.scalar(vt, protoWire(pf.typ), where+" (map value)")
				g.checkProtoType(kind, fl, vt, pf, where)
			}
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() != reflect.Uint8:
			g.checkPlain(ft, where)
			if pf.label != "repeated" {
				// a named slice sent as a message {repeated items = 1}
				kind, msg = "K8S_PB_MESSAGE", g.wrapper(ft, where)
				g.checkProtoType(kind, nil, ft, pf, where)
				break
			}
			if hasFlag(f.flags, "K8S_PBF_POINTER") {
				fail("%s: pointer to a repeated field cannot be expressed", where)
			}
			if ft.Name() != "" {
				g.note("named slices sent as repeated fields", where+" ("+typeName(ft)+")")
			}
			f.flags = append(f.flags, "K8S_PBF_REPEATED")
			et := ft.Elem()
			switch {
			case et.Kind() == reflect.Pointer || et.Kind() == reflect.Map || et.Kind() == reflect.Interface:
				fail("%s: slice element type %s cannot be expressed", where, et)
			case et.Kind() == reflect.Slice && et.Elem().Kind() != reflect.Uint8:
				kind, msg = "K8S_PB_MESSAGE", g.wrapper(et, where)
				g.checkProtoType(kind, nil, et, pf, where)
			default:
				kind, msg, fl = g.scalar(et, wire, where)
				g.checkProtoType(kind, fl, et, pf, where)
			}
		default:
			if pf.label != "optional" {
				fail("%s: Go type %s is not repeated, generated.proto field is %s", where, sf.Type, pf.label)
			}
			if ft.Kind() == reflect.Interface {
				fail("%s: interface type %s cannot be expressed", where, ft)
			}
			kind, msg, fl = g.scalar(ft, wire, where)
			g.checkProtoType(kind, fl, ft, pf, where)
		}
		if wire == "zigzag32" || wire == "zigzag64" {
			g.note("zigzag fields", where)
		}
		if pf.packed {
			g.note("packed repeated fields", where)
		}
		f.kind, f.msg = kind, msg
		f.flags = append(f.flags, fl...)
		m.fields = append(m.fields, f)
	}
	for n, pf := range pm.fields {
		if _, ok := seen[n]; !ok {
			fail("%s: generated.proto field %s = %d has no Go field with that protobuf number", typeName(t), pf.name, n)
		}
	}
	if len(m.fields) > 255 {
		fail("%s has %d protobuf fields, more than a uint8 count", m.name, len(m.fields))
	}
	sort.Slice(m.fields, func(i, j int) bool { return m.fields[i].num < m.fields[j].num })
}

// hasPBField: whether a struct carries anything in protobuf.
func hasPBField(t reflect.Type) bool {
	for i := 0; i < t.NumField(); i++ {
		if _, ok := t.Field(i).Tag.Lookup("protobuf"); ok {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------------------
// generated.proto: the files go-to-protobuf wrote next to the Go types, read
// from the module cache. They, not the struct tags, are what the generated
// Marshal code follows (a few struct tags are stale).

type pField struct {
	label   string // optional, repeated, required, or map
	typ     string // scalar type, or fully qualified message name (map: the value type)
	keyType string // map key type
	name    string
	num     uint32
	packed  bool
}

type pMsg struct {
	fields map[uint32]pField
}

type protoDB struct {
	modcache string
	mods     map[string]string           // module path -> version
	pkgs     map[string]map[string]*pMsg // Go package path -> its messages
}

var (
	protoFieldRE = regexp.MustCompile(`^(optional|repeated|required)\s+(\.?[A-Za-z_][\w.]*)\s+(\w+)\s*=\s*(\d+)\s*(\[[^\]]*\])?\s*;$`)
	protoMapRE   = regexp.MustCompile(`^map<\s*(\w+)\s*,\s*(\.?[A-Za-z_][\w.]*)\s*>\s+(\w+)\s*=\s*(\d+)\s*;$`)
	protoScalars = map[string]bool{"double": true, "float": true, "int32": true, "int64": true, "uint32": true, "uint64": true,
		"sint32": true, "sint64": true, "fixed32": true, "fixed64": true, "sfixed32": true, "sfixed64": true, "bool": true,
		"string": true, "bytes": true}
)

// protoName: the generated.proto name of a Go type (k8s.io.api.core.v1.Pod).
func protoName(t reflect.Type) string {
	return protoPkgName(t.PkgPath()) + "." + t.Name()
}

// protoPkgName: the generated.proto package of a Go package path.
func protoPkgName(pkg string) string {
	return strings.NewReplacer("/", ".", "-", "_").Replace(pkg)
}

// protoWire: the wire type of a generated.proto field type.
func protoWire(typ string) string {
	switch typ {
	case "int32", "int64", "uint32", "uint64", "bool":
		return "varint"
	case "sint32":
		return "zigzag32"
	case "sint64":
		return "zigzag64"
	case "double", "fixed64", "sfixed64":
		return "fixed64"
	case "float", "fixed32", "sfixed32":
		return "fixed32"
	}
	return "bytes"
}

// escapeModPath: the module cache spelling of a module path (upper case -> !lower).
func escapeModPath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if r >= 'A' && r <= 'Z' {
			b.WriteByte('!')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// msg: the generated.proto message of a Go type.
func (db *protoDB) msg(t reflect.Type, where string) *pMsg {
	pkg := t.PkgPath()
	msgs, ok := db.pkgs[pkg]
	if !ok {
		msgs = db.load(pkg, where)
		db.pkgs[pkg] = msgs
	}
	m := msgs[t.Name()]
	if m == nil {
		fail("%s: no message %s in the generated.proto of %s", where, t.Name(), pkg)
	}
	return m
}

func (db *protoDB) load(pkg, where string) map[string]*pMsg {
	mod := ""
	for m := range db.mods {
		if (pkg == m || strings.HasPrefix(pkg, m+"/")) && len(m) > len(mod) {
			mod = m
		}
	}
	if mod == "" {
		fail("%s: package %s is in no module of the build", where, pkg)
	}
	path := filepath.Join(db.modcache, escapeModPath(mod)+"@"+db.mods[mod], strings.TrimPrefix(pkg[len(mod):], "/"), "generated.proto")
	data, err := os.ReadFile(path)
	if err != nil {
		fail("%s: %v (set -modcache to the Go module cache)", where, err)
	}
	msgs := map[string]*pMsg{}
	var cur *pMsg
	var curName, protoPkg string
	inComment := false
	for ln, line := range strings.Split(string(data), "\n") {
		at := fmt.Sprintf("%s:%d", path, ln+1)
		line = strings.TrimSpace(line)
		if inComment {
			if i := strings.Index(line, "*/"); i >= 0 {
				inComment = false
				line = strings.TrimSpace(line[i+2:])
			} else {
				continue
			}
		}
		if strings.HasPrefix(line, "/*") {
			if i := strings.Index(line[2:], "*/"); i >= 0 {
				line = strings.TrimSpace(line[i+4:])
			} else {
				inComment = true
				continue
			}
		}
		if i := strings.Index(line, "//"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if line == "" {
			continue
		}
		if cur == nil {
			switch {
			case strings.HasPrefix(line, "package "):
				protoPkg = strings.TrimSuffix(strings.TrimSpace(line[8:]), ";")
				if protoPkg != protoPkgName(pkg) {
					fail("%s: package %s, want %s", at, protoPkg, protoPkgName(pkg))
				}
			case strings.HasPrefix(line, "message ") && strings.HasSuffix(line, "{"):
				curName = strings.TrimSpace(strings.TrimSuffix(line[8:], "{"))
				cur = &pMsg{fields: map[uint32]pField{}}
				msgs[curName] = cur
			case strings.HasPrefix(line, "syntax ") || strings.HasPrefix(line, "import ") || strings.HasPrefix(line, "option "):
			default:
				fail("%s: unexpected line %q", at, line)
			}
			continue
		}
		if line == "}" {
			cur = nil
			continue
		}
		var f pField
		var num string
		resolve := func(ty string) string {
			switch {
			case protoScalars[ty]:
				return ty
			case strings.HasPrefix(ty, "."):
				return ty[1:]
			case strings.Contains(ty, "."):
				return ty
			}
			return protoPkg + "." + ty
		}
		if s := protoFieldRE.FindStringSubmatch(line); s != nil {
			f = pField{label: s[1], typ: resolve(s[2]), name: s[3]}
			num = s[4]
			if s[5] != "" {
				if strings.Contains(s[5], "packed=true") {
					f.packed = true
				} else {
					fail("%s: field options %s are not understood", at, s[5])
				}
			}
		} else if s := protoMapRE.FindStringSubmatch(line); s != nil {
			f = pField{label: "map", keyType: s[1], typ: resolve(s[2]), name: s[3]}
			num = s[4]
		} else {
			fail("%s: unexpected line %q in message %s", at, line, curName)
		}
		n, err := strconv.ParseUint(num, 10, 32)
		if err != nil {
			fail("%s: bad field number", at)
		}
		f.num = uint32(n)
		if _, dup := cur.fields[f.num]; dup {
			fail("%s: field number %d twice in message %s", at, n, curName)
		}
		cur.fields[f.num] = f
	}
	if cur != nil {
		fail("%s: message %s not closed", path, curName)
	}
	return msgs
}

type regType struct{ apiVersion, kind, msg string }

func main() {
	stats := flag.Bool("stats", false, "print notes on stderr (tag options, JSON key order, ...)")
	modcache := flag.String("modcache", os.Getenv("GOMODCACHE"), "the Go module cache holding the k8s.io modules (their generated.proto files)")
	flag.Parse()

	g := &gen{msgs: map[string]*message{}, noTag: map[string][]string{}, custom: map[string]string{}, notes: map[string][]string{}}
	versions := moduleVersions()
	g.db = &protoDB{modcache: *modcache, mods: versions, pkgs: map[string]map[string]*pMsg{}}
	if g.db.modcache == "" {
		fail("no Go module cache: pass -modcache (go env GOMODCACHE)")
	}
	var regs []regType
	var unencodable []string
	seenGVK := map[string]bool{}
	for _, s := range []*runtime.Scheme{kscheme.Scheme, extscheme.Scheme, aggscheme.Scheme} {
		for gvk, t := range s.AllKnownTypes() {
			if gvk.Version == runtime.APIVersionInternal {
				continue
			}
			av := gvk.Version
			if gvk.Group != "" {
				av = gvk.Group + "/" + gvk.Version
			}
			key := av + " " + gvk.Kind
			if seenGVK[key] {
				continue
			}
			seenGVK[key] = true
			if t.Kind() != reflect.Struct || !hasPBField(t) {
				unencodable = append(unencodable, fmt.Sprintf("%s %s (%s)", av, gvk.Kind, typeName(t)))
				continue
			}
			g.checkPlain(t, key)
			if _, ok := specials[typeName(t)]; ok {
				fail("%s: registered type %s is a special type", key, typeName(t))
			}
			regs = append(regs, regType{av, gvk.Kind, g.message(t)})
		}
	}
	watch := g.message(reflect.TypeOf(metav1.WatchEvent{}))
	for len(g.queue) > 0 {
		t := g.queue[0]
		g.queue = g.queue[1:]
		g.walk(t)
	}

	// indices
	names := make([]string, 0, len(g.msgs))
	for n := range g.msgs {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) > 65535 {
		fail("%d messages do not fit uint16 indices", len(names))
	}
	index := map[string]int{}
	for i, n := range names {
		index[n] = i
	}
	sort.Slice(regs, func(i, j int) bool {
		if regs[i].apiVersion != regs[j].apiVersion {
			return regs[i].apiVersion < regs[j].apiVersion
		}
		return regs[i].kind < regs[j].kind
	})
	sort.Strings(unencodable)
	sort.Strings(g.skipped)
	sort.Strings(g.stale)

	// JSON names visible through inline fields: a duplicate would make the
	// walker write a key twice where encoding/json keeps one.
	for _, n := range names {
		seen := map[string]string{}
		var visit func(m *message, path string)
		visit = func(m *message, path string) {
			for _, f := range m.fields {
				if strings.Contains(strings.Join(f.flags, " "), "K8S_PBF_INLINE") {
					visit(g.msgs[f.msg], path+"."+g.msgs[f.msg].name)
					continue
				}
				if m.array {
					continue
				}
				if prev, ok := seen[f.json]; ok {
					fail("%s: JSON name %q appears twice through inline fields (%s and %s)", n, f.json, prev, path)
				}
				seen[f.json] = path
			}
		}
		visit(g.msgs[n], n)
	}

	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	fmt.Fprintf(w, "/* Generated by tools/gen-proto-schema.sh (tools/protogen) from k8s.io/client-go %s, k8s.io/apiextensions-apiserver %s and k8s.io/kube-aggregator %s. Do not edit. */\n",
		versions["k8s.io/client-go"], versions["k8s.io/apiextensions-apiserver"], versions["k8s.io/kube-aggregator"])
	fmt.Fprintf(w, "#include \"proto.h\"\n\n")
	fmt.Fprintf(w, "const char k8s__pb_source[] = \"k8s.io/client-go %s, k8s.io/api %s, k8s.io/apimachinery %s, k8s.io/apiextensions-apiserver %s, k8s.io/kube-aggregator %s\";\n\n",
		versions["k8s.io/client-go"], versions["k8s.io/api"], versions["k8s.io/apimachinery"], versions["k8s.io/apiextensions-apiserver"], versions["k8s.io/kube-aggregator"])

	fmt.Fprintf(w, "const k8s_pb_message k8s__pb_messages[] = {\n")
	first := 0
	for i, n := range names {
		m := g.msgs[n]
		flags := "0"
		if m.array {
			flags = "K8S_PBM_ARRAY"
		}
		fmt.Fprintf(w, "\t/* %d */ {%q, %d, %d, %s},\n", i, n, first, len(m.fields), flags)
		first += len(m.fields)
	}
	fmt.Fprintf(w, "};\nconst size_t k8s__pb_nmessages = %d;\n\n", len(names))
	if first > 65535 {
		fail("%d fields do not fit uint16 indices", first)
	}

	fmt.Fprintf(w, "const k8s_pb_field k8s__pb_fields[] = {\n")
	first = 0
	for i, n := range names {
		m := g.msgs[n]
		if len(m.fields) == 0 {
			continue
		}
		fmt.Fprintf(w, "\t/* %d: %d %s */\n", first, i, n)
		for _, f := range m.fields {
			flags := "0"
			if len(f.flags) > 0 {
				flags = strings.Join(sortFlags(f.flags), " | ")
			}
			mi := 0
			if f.msg != "" {
				mi = index[f.msg]
			}
			fmt.Fprintf(w, "\t{%q, %d, %d, %s, %s},\n", f.json, f.num, mi, f.kind, flags)
		}
		first += len(m.fields)
	}
	fmt.Fprintf(w, "};\nconst size_t k8s__pb_nfields = %d;\n\n", first)

	fmt.Fprintf(w, "const k8s_pb_type k8s__pb_types[] = {\n")
	for _, r := range regs {
		fmt.Fprintf(w, "\t{%q, %q, %d},\n", r.apiVersion, r.kind, index[r.msg])
	}
	fmt.Fprintf(w, "};\nconst size_t k8s__pb_ntypes = %d;\n\n", len(regs))
	fmt.Fprintf(w, "const uint16_t k8s__pb_watch_event_msg = %d;\n", index[watch])

	fmt.Fprintf(w, "\n/*\n * Fields not carried (no protobuf tag; TypeMeta and json:\"-\" fields aside):\n")
	if len(g.skipped) == 0 {
		fmt.Fprintf(w, " *   none\n")
	}
	for _, s := range g.skipped {
		fmt.Fprintf(w, " *   %s\n", strings.ReplaceAll(s, "*/", "* /"))
	}
	fmt.Fprintf(w, " *\n * Registered kinds without a protobuf form (not in k8s__pb_types):\n")
	if len(unencodable) == 0 {
		fmt.Fprintf(w, " *   none\n")
	}
	for _, s := range unencodable {
		fmt.Fprintf(w, " *   %s\n", s)
	}
	fmt.Fprintf(w, " *\n * %d struct tags disagree with generated.proto on the wire type or label; the\n", len(g.stale))
	fmt.Fprintf(w, " * table follows generated.proto (field numbers and names agree; protogen\n * -stats lists them).\n */\n")

	if len(g.skipped) > 0 {
		fmt.Fprintf(os.Stderr, "protogen: warning: %d fields have no protobuf tag and are not carried:\n", len(g.skipped))
		for _, s := range g.skipped {
			fmt.Fprintf(os.Stderr, "protogen:   %s\n", s)
		}
	}
	if *stats {
		for _, s := range g.stale {
			fmt.Fprintf(os.Stderr, "protogen: stale struct tag (generated.proto followed): %s\n", s)
		}
		printStats(g, names, index, len(regs), first, unencodable)
	}
}

var flagOrder = []string{"K8S_PBF_OMITEMPTY", "K8S_PBF_POINTER", "K8S_PBF_REPEATED", "K8S_PBF_MAP", "K8S_PBF_INLINE", "K8S_PBF_OMITZERO", "K8S_PBF_ZIGZAG"}

func sortFlags(fl []string) []string {
	var out []string
	for _, o := range flagOrder {
		for _, f := range fl {
			if f == o {
				out = append(out, o)
				break
			}
		}
	}
	return out
}

func moduleVersions() map[string]string {
	v := map[string]string{}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		fail("no build info (build protogen in module mode)")
	}
	for _, d := range bi.Deps {
		if d.Replace != nil {
			v[d.Path] = d.Replace.Version
		} else {
			v[d.Path] = d.Version
		}
	}
	for _, m := range []string{"k8s.io/client-go", "k8s.io/api", "k8s.io/apimachinery", "k8s.io/apiextensions-apiserver", "k8s.io/kube-aggregator"} {
		if v[m] == "" {
			fail("module %s is not in the build info", m)
		}
	}
	return v
}

func printStats(g *gen, names []string, index map[string]int, ntypes, nfields int, unencodable []string) {
	e := os.Stderr
	fmt.Fprintf(e, "protogen: %d messages, %d fields, %d types\n", len(names), nfields, ntypes)
	var cs []string
	for n, k := range g.custom {
		cs = append(cs, n+" -> "+k)
	}
	sort.Strings(cs)
	fmt.Fprintf(e, "protogen: special (custom JSON) types met:\n")
	for _, s := range cs {
		fmt.Fprintf(e, "protogen:   %s\n", s)
	}
	var topics []string
	for k := range g.notes {
		topics = append(topics, k)
	}
	sort.Strings(topics)
	for _, k := range topics {
		sort.Strings(g.notes[k])
		fmt.Fprintf(e, "protogen: %s (%d):\n", k, len(g.notes[k]))
		for _, s := range g.notes[k] {
			fmt.Fprintf(e, "protogen:   %s\n", s)
		}
	}
	var nt []string
	for k, v := range g.noTag {
		nt = append(nt, k+": "+strings.Join(v, ", "))
	}
	sort.Strings(nt)
	fmt.Fprintf(e, "protogen: accepted untagged fields in %d messages (TypeMeta / json:\"-\"), non-TypeMeta ones:\n", len(nt))
	for _, s := range nt {
		if strings.Contains(s, `json:"-"`) {
			fmt.Fprintf(e, "protogen:   %s\n", s)
		}
	}
	// encoding/json writes keys in Go field order; the walker in field-number order.
	var order []string
	for _, n := range names {
		m := g.msgs[n]
		if m.array {
			continue
		}
		for i := 1; i < len(m.fields); i++ {
			if m.fields[i].goPos < m.fields[i-1].goPos {
				order = append(order, n)
				break
			}
		}
	}
	fmt.Fprintf(e, "protogen: messages whose field-number order differs from the Go field order (JSON key order) (%d):\n", len(order))
	for _, s := range order {
		fmt.Fprintf(e, "protogen:   %s\n", s)
	}
}

// ETF codec benchmarks: edist against erl_interface (libei) on five fixed terms.
//
// bench/beam_etf_bench.escript builds the same five terms in Erlang and times BEAM's
// term_to_binary/binary_to_term; scripts/bench.sh runs both and reports the ratios. Any change
// to a term here must be made there too: `etf_bench --print-terms` and the escript print each
// term's encoded size and CRC-32, and bench.sh refuses to compare terms that differ.
//
// What each side does per iteration:
//   edist encode   etf::encode(term): a fresh vector, as term_to_binary makes a fresh binary.
//   edist shared   etf::encode_to with binaries over 64 bytes listed, not copied, as
//                  term_to_iovec refers to BEAM's off-heap binaries.
//   edist decode   etf::decode of the bytes, from a span (binaries copied out) and from a binary
//                  Term (large binaries share it); the decoded Term is destroyed in the loop.
//   ei encode      ei_x_new_with_version, the ei_x_encode_* calls that build the term, ei_x_free.
//   ei decode      ei_decode_version + ei_skip_term: a validating walk that builds nothing.
#include <edist/etf.hpp>
#include <edist/term.hpp>

#include <benchmark/benchmark.h>
#include <zlib.h>

#ifdef EDIST_BENCH_EI
#include <ei.h>
#endif

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace edist;
using Bytes = std::vector<std::uint8_t>;

// --- The terms' contents, shared by the edist and ei builders ------------------------------------

constexpr int atom_map_size = 10;
constexpr int int_list_length = 200;
constexpr int document_items = 20;
constexpr std::size_t big_binary_size = std::size_t(1) << 20;

std::string atom_map_key(int i) { return "field_" + std::to_string(i); }
long atom_map_value(int i) { return i * 100L; }

// Mixes SMALL_INTEGER_EXT and INTEGER_EXT; the negative values keep BEAM from writing the list
// as a STRING_EXT.
long int_list_element(int i) { return 37L * i * i - 1000L * i; }

// One record of the JSON-like document. Map keys are listed in term order (atoms sort by
// text), which is the order BEAM writes a small map in, so every side emits identical bytes.
struct DocumentItem {
    long id;
    std::string name;
    std::string email;
    bool active;
    double score;
    double lat, lon;
    long year = 2024, month, day;
};

DocumentItem document_item(int i) {
    std::string n = std::to_string(i);
    return {.id = i * 1000L + 7,
            .name = "user-" + n,
            .email = "user" + n + "@example.com",
            .active = i % 3 != 0,
            .score = i * 1.25 + 0.5,
            .lat = i * 0.5,
            .lon = -(i * 0.25),
            .month = i % 12 + 1,
            .day = i % 28 + 1};
}

constexpr std::string_view document_kind = "user_list";
constexpr long document_version = 3;
constexpr long document_generated = 20240101; // below 2^27: ei writes larger ints as bignums

Bytes big_binary_bytes() {
    Bytes b(big_binary_size);
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(i & 255);
    return b;
}

// --- The terms as edist Terms -------------------------------------------------------------------

Term small_tuple_term() { return tuple(atoms::ok, 42, binary("abc")); }

Term atom_map_term() {
    std::vector<std::pair<Term, Term>> kv;
    for (int i = 0; i < atom_map_size; ++i) kv.emplace_back(atom(atom_map_key(i)), atom_map_value(i));
    return map_from(std::move(kv));
}

Term int_list_term() {
    std::vector<Term> v;
    for (int i = 0; i < int_list_length; ++i) v.emplace_back(int_list_element(i));
    return list_from(std::move(v));
}

Term document_term() {
    std::vector<Term> items;
    for (int i = 1; i <= document_items; ++i) {
        DocumentItem d = document_item(i);
        items.push_back(map({
            {atom("active"), d.active},
            {atom("email"), binary(d.email)},
            {atom("id"), d.id},
            {atom("location"), tuple(atom("point"), d.lat, d.lon)},
            {atom("meta"), tuple(atom("created"), tuple(d.year, d.month, d.day))},
            {atom("name"), binary(d.name)},
            {atom("score"), d.score},
            {atom("tags"), list(atom("alpha"), atom("beta"), atom("gamma"))},
        }));
    }
    return map({
        {atom("generated"), document_generated},
        {atom("items"), list_from(std::move(items))},
        {atom("kind"), binary(document_kind)},
        {atom("version"), document_version},
    });
}

Term big_binary_term() { return binary(big_binary_bytes()); }

// --- The same terms built with ei ---------------------------------------------------------------
#ifdef EDIST_BENCH_EI

// What an ei user would have at hand before encoding: the data, not yet in ETF.
struct EiInputs {
    std::vector<std::string> map_keys;
    std::vector<long> list;
    std::vector<DocumentItem> items;
    Bytes big;
};

const EiInputs& ei_inputs() {
    static const EiInputs in = [] {
        EiInputs r;
        for (int i = 0; i < atom_map_size; ++i) r.map_keys.push_back(atom_map_key(i));
        for (int i = 0; i < int_list_length; ++i) r.list.push_back(int_list_element(i));
        for (int i = 1; i <= document_items; ++i) r.items.push_back(document_item(i));
        r.big = big_binary_bytes();
        return r;
    }();
    return in;
}

void ei_small_tuple(ei_x_buff* x) {
    ei_x_encode_tuple_header(x, 3);
    ei_x_encode_atom(x, "ok");
    ei_x_encode_long(x, 42);
    ei_x_encode_binary(x, "abc", 3);
}

void ei_atom_map(ei_x_buff* x) {
    const EiInputs& in = ei_inputs();
    ei_x_encode_map_header(x, atom_map_size);
    for (int i = 0; i < atom_map_size; ++i) {
        ei_x_encode_atom(x, in.map_keys[i].c_str());
        ei_x_encode_long(x, atom_map_value(i));
    }
}

void ei_int_list(ei_x_buff* x) {
    const EiInputs& in = ei_inputs();
    ei_x_encode_list_header(x, int_list_length);
    for (long v : in.list) ei_x_encode_long(x, v);
    ei_x_encode_empty_list(x);
}

void ei_document(ei_x_buff* x) {
    const EiInputs& in = ei_inputs();
    ei_x_encode_map_header(x, 4);
    ei_x_encode_atom(x, "generated");
    ei_x_encode_long(x, document_generated);
    ei_x_encode_atom(x, "items");
    ei_x_encode_list_header(x, document_items);
    for (const DocumentItem& d : in.items) {
        ei_x_encode_map_header(x, 8);
        ei_x_encode_atom(x, "active");
        ei_x_encode_boolean(x, d.active);
        ei_x_encode_atom(x, "email");
        ei_x_encode_binary(x, d.email.data(), static_cast<int>(d.email.size()));
        ei_x_encode_atom(x, "id");
        ei_x_encode_long(x, d.id);
        ei_x_encode_atom(x, "location");
        ei_x_encode_tuple_header(x, 3);
        ei_x_encode_atom(x, "point");
        ei_x_encode_double(x, d.lat);
        ei_x_encode_double(x, d.lon);
        ei_x_encode_atom(x, "meta");
        ei_x_encode_tuple_header(x, 2);
        ei_x_encode_atom(x, "created");
        ei_x_encode_tuple_header(x, 3);
        ei_x_encode_long(x, d.year);
        ei_x_encode_long(x, d.month);
        ei_x_encode_long(x, d.day);
        ei_x_encode_atom(x, "name");
        ei_x_encode_binary(x, d.name.data(), static_cast<int>(d.name.size()));
        ei_x_encode_atom(x, "score");
        ei_x_encode_double(x, d.score);
        ei_x_encode_atom(x, "tags");
        ei_x_encode_list_header(x, 3);
        ei_x_encode_atom(x, "alpha");
        ei_x_encode_atom(x, "beta");
        ei_x_encode_atom(x, "gamma");
        ei_x_encode_empty_list(x);
    }
    ei_x_encode_empty_list(x);
    ei_x_encode_atom(x, "kind");
    ei_x_encode_binary(x, document_kind.data(), static_cast<int>(document_kind.size()));
    ei_x_encode_atom(x, "version");
    ei_x_encode_long(x, document_version);
}

void ei_big_binary(ei_x_buff* x) {
    const EiInputs& in = ei_inputs();
    ei_x_encode_binary(x, in.big.data(), static_cast<int>(in.big.size()));
}

using EiBuild = void (*)(ei_x_buff*);

Bytes ei_encode_once(EiBuild build) {
    ei_x_buff x;
    ei_x_new_with_version(&x);
    build(&x);
    Bytes out(x.buff, x.buff + x.index);
    ei_x_free(&x);
    return out;
}
#endif

// --- Cases ---------------------------------------------------------------------------------------

struct Case {
    const char* name; // the same names as in beam_etf_bench.escript
    Term (*make)();
#ifdef EDIST_BENCH_EI
    EiBuild ei_build;
#endif
};

const Case cases[] = {
#ifdef EDIST_BENCH_EI
#define EDIST_CASE(name, make, ei) {name, make, ei}
#else
#define EDIST_CASE(name, make, ei) {name, make}
#endif
    EDIST_CASE("small_tuple", small_tuple_term, ei_small_tuple),
    EDIST_CASE("atom_map10", atom_map_term, ei_atom_map),
    EDIST_CASE("int_list200", int_list_term, ei_int_list),
    EDIST_CASE("document4k", document_term, ei_document),
    EDIST_CASE("binary1m", big_binary_term, ei_big_binary),
#undef EDIST_CASE
};

unsigned long crc_of(const Bytes& b) {
    return crc32(crc32(0L, Z_NULL, 0), b.data(), static_cast<uInt>(b.size()));
}

// One line per term and side, in the form the escript prints, plus checks that the codec
// round-trips the term and (informationally) where edist and ei bytes first differ.
int print_terms() {
    int status = 0;
    for (const Case& c : cases) {
        Term t = c.make();
        Bytes e = etf::encode(t);
        std::printf("term %s edist size %zu crc32 %lu\n", c.name, e.size(), crc_of(e));
        auto back = etf::decode(std::span<const std::uint8_t>(e));
        if (!back.ok() || !(*back == t)) {
            std::fprintf(stderr, "%s: edist decode(encode(t)) does not give t back\n", c.name);
            status = 1;
        }
#ifdef EDIST_BENCH_EI
        Bytes x = ei_encode_once(c.ei_build);
        std::printf("term %s ei size %zu crc32 %lu\n", c.name, x.size(), crc_of(x));
        if (x != e) {
            std::size_t i = 0;
            while (i < x.size() && i < e.size() && x[i] == e[i]) ++i;
            std::fprintf(stderr, "%s: edist and ei bytes differ from offset %zu\n", c.name, i);
        }
#endif
    }
    return status;
}

// --- Benchmarks ----------------------------------------------------------------------------------

void check(bool ok, benchmark::State& state, const char* what) {
    if (!ok) state.SkipWithError(what);
}

void encode_edist(benchmark::State& state, const Case& c) {
    const Term t = c.make();
    std::size_t size = 0;
    for (auto _ : state) {
        Bytes out = etf::encode(t);
        size = out.size();
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
}

// term_to_iovec's counterpart: binaries over 64 bytes (BEAM's off-heap ones, which
// term_to_iovec refers to) are listed, not copied.
void encode_edist_shared(benchmark::State& state, const Case& c) {
    const Term t = c.make();
    std::size_t size = 0;
    for (auto _ : state) {
        Bytes out{etf::version_magic};
        std::vector<etf::SharedBinary> shared;
        etf::encode_to(out, t, shared, 65);
        size = out.size();
        benchmark::DoNotOptimize(out.data());
        benchmark::DoNotOptimize(shared.data());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
}

void decode_edist_span(benchmark::State& state, const Case& c) {
    const Bytes bytes = etf::encode(c.make());
    const std::span<const std::uint8_t> in(bytes);
    check(etf::decode(in).ok(), state, "decode failed");
    for (auto _ : state) {
        auto r = etf::decode(in);
        benchmark::DoNotOptimize(r);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes.size()));
}

void decode_edist_binary(benchmark::State& state, const Case& c) {
    Bytes bytes = etf::encode(c.make());
    const std::size_t size = bytes.size();
    const Term in = binary(std::move(bytes));
    check(etf::decode(in).ok(), state, "decode failed");
    for (auto _ : state) {
        auto r = etf::decode(in);
        benchmark::DoNotOptimize(r);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
}

#ifdef EDIST_BENCH_EI
void encode_ei(benchmark::State& state, const Case& c) {
    std::size_t size = 0;
    for (auto _ : state) {
        ei_x_buff x;
        ei_x_new_with_version(&x);
        c.ei_build(&x);
        size = static_cast<std::size_t>(x.index);
        benchmark::DoNotOptimize(x.buff);
        benchmark::ClobberMemory();
        ei_x_free(&x);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
}

void decode_ei_skip(benchmark::State& state, const Case& c) {
    const Bytes bytes = ei_encode_once(c.ei_build);
    const char* buf = reinterpret_cast<const char*>(bytes.data());
    for (auto _ : state) {
        int index = 0, version = 0;
        benchmark::DoNotOptimize(buf);
        if (ei_decode_version(buf, &index, &version) < 0 || ei_skip_term(buf, &index) < 0) {
            state.SkipWithError("ei_skip_term failed");
            break;
        }
        benchmark::DoNotOptimize(index);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes.size()));
}
#endif

void register_benchmarks() {
    using Fn = void (*)(benchmark::State&, const Case&);
    struct Op {
        const char* name;
        Fn fn;
    };
    const Op ops[] = {
        {"encode/edist", encode_edist},
        {"encode/edist_shared", encode_edist_shared},
        {"decode/edist_span", decode_edist_span},
        {"decode/edist_binary", decode_edist_binary},
#ifdef EDIST_BENCH_EI
        {"encode/ei", encode_ei},
        {"decode/ei_skip_term", decode_ei_skip},
#endif
    };
    for (const Case& c : cases) {
        for (const Op& op : ops) {
            std::string name = std::string(op.name) + "/" + c.name;
            benchmark::RegisterBenchmark(name.c_str(), [fn = op.fn, &c](benchmark::State& s) { fn(s, c); });
        }
    }
}

} // namespace

int main(int argc, char** argv) {
#ifdef EDIST_BENCH_EI
    if (ei_init() != 0) {
        std::fprintf(stderr, "ei_init failed\n");
        return 1;
    }
    ei_inputs(); // built now rather than inside the first timed ei iteration
#endif
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--print-terms") == 0) return print_terms();
    }
    register_benchmarks();
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}

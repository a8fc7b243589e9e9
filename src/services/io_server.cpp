// The node's I/O server (`user`) and the client side of the I/O protocol.
#include "services/system.hpp"

#include "etf/text_common.hpp"

#include <edist/io.hpp>
#include <edist/io_lib.hpp>
#include <edist/text.hpp>

#include <iostream>

namespace edist {

namespace {

// Chardata (nested lists of code points and binaries) as UTF-8. Binaries are UTF-8 for the
// unicode encoding and Latin-1 for latin1, as the I/O protocol defines. False when malformed.
bool chardata_to_utf8(const Term& data, bool unicode, std::string& out) {
    std::vector<const Term*> todo{&data};
    while (!todo.empty()) {
        const Term* t = todo.back();
        todo.pop_back();
        if (t->is_binary()) {
            auto bytes = t->as_binary();
            if (unicode)
                out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
            else
                for (auto b : bytes) detail::append_utf8(out, b);
        } else if (t->is_int64()) {
            auto cp = t->as_int64();
            if (cp < 0 || cp > 0x10FFFF || (!unicode && cp > 255)) return false;
            detail::append_utf8(out, static_cast<std::uint32_t>(cp));
        } else if (t->is_list()) {
            auto l = t->as_list();
            if (!l.tail->is_nil()) todo.push_back(l.tail); // a binary tail is allowed in iodata
            for (std::size_t i = l.size(); i-- > 0;) todo.push_back(&l.elements[i]);
        } else {
            return false;
        }
        if (todo.size() > 1'000'000) return false;
    }
    return true;
}

// One I/O request; the reply to send back.
Term io_request(Self self, const Term& req, const NodeOptions& opts) {
    auto write = [&](const std::string& s) {
        if (opts.io_output)
            opts.io_output(s);
        else {
            std::cout << s;
            std::cout.flush();
        }
        return Term(atoms::ok);
    };
    Term error_request = tuple(atoms::error, atom("request"));
    if (!req.is_tuple() || req.tuple_size() == 0 || !req[0].is_atom()) return error_request;
    Atom op = req[0].as_atom();
    std::size_t n = req.tuple_size();
    // Requests from peers without UNICODE_IO, or from old code, have no encoding element.
    bool has_enc = n >= 2 && (req[1].is_atom(atom("unicode")) || req[1].is_atom(atom("latin1")));
    bool unicode = has_enc && req[1].is_atom(atom("unicode"));
    std::size_t a = has_enc ? 2 : 1;
    if (op == atom("put_chars")) {
        if (n == a + 1) {
            std::string out;
            if (!chardata_to_utf8(req[a], unicode, out)) return tuple(atoms::error, atom("put_chars"));
            return write(out);
        }
        if (n == a + 3 && req[a].is_atom(atom("io_lib")) && req[a + 2].is_proper_list() &&
            (req[a + 1].is_atom(atom("format")) || req[a + 1].is_atom(atom("fwrite")))) {
            auto args = req[a + 2].as_list();
            if (args.size() != 2) return error_request;
            io_lib::FormatOptions fo;
            fo.local_node = self.node().name();
            auto text = io_lib::format(args.elements[0], args.elements[1], fo);
            if (!text) return tuple(atoms::error, tuple(atom("format"), binary(std::string_view(text.error().what()))));
            return write(*text);
        }
        return tuple(atoms::error, atom("enotsup"));
    }
    if (op == atom("get_line")) {
        std::string prompt;
        if (n > a) chardata_to_utf8(req[a], true, prompt);
        std::optional<std::string> line;
        if (opts.io_input) {
            line = opts.io_input(prompt);
        } else {
            std::cout << prompt << std::flush;
            std::string s;
            if (std::getline(std::cin, s)) line = s + "\n";
        }
        if (!line) return atom("eof");
        return string(*line);
    }
    if (op == atom("setopts")) return atoms::ok;
    if (op == atom("getopts")) return list(tuple(atom("binary"), false), tuple(atom("encoding"), atom("unicode")));
    if (op == atom("get_geometry")) return tuple(atoms::error, atom("enotsup"));
    if (op == atom("requests") && n == 2 && req[1].is_proper_list()) {
        Term last = atoms::ok;
        for (const Term& r : req[1].as_list()) {
            last = io_request(self, r, opts);
            if (last.is_tuple(2) && last[0].is_atom(atoms::error)) break;
        }
        return last;
    }
    return tuple(atoms::error, atom("enotsup"));
}

Task<> user(Self self) {
    const NodeOptions& opts = self.node().options();
    for (;;) {
        Term msg = *co_await self.receive();
        // {io_request, From, ReplyAs, Request}
        if (msg.is_tuple(4) && msg[0].is_atom(atom("io_request")) && msg[1].is_pid()) {
            Term reply = io_request(self, msg[3], opts);
            self.send(msg[1].as_pid(), tuple(atom("io_reply"), msg[2], reply));
        }
    }
}

// Sends an I/O request to the group leader and waits for its reply (or its death).
Task<Result<Term>> request(Self self, Term req) {
    Pid gl = self.group_leader();
    Ref mref = self.monitor(gl);
    Term tag(mref);
    self.send(gl, tuple(atom("io_request"), self.pid(), tag, req));
    auto reply = co_await self.receive([&](const Term& t) {
        return (t.is_tuple(3) && t[0].is_atom(atom("io_reply")) && t[1] == tag) ||
               (t.is_tuple(5) && t[0].is_atom(atom("DOWN")) && t[1] == tag);
    });
    self.demonitor(mref, true);
    if (reply->tuple_size() == 5) {
        const Term& why = (*reply)[4];
        co_return Error(why.is_atom() ? why.as_atom() : atoms::noproc, "group leader is gone: " + to_string(why));
    }
    co_return (*reply)[2];
}

// The error io:put_chars and io:format raise for an I/O server's {error, Reason} reply (OTP 25's
// io.erl): badarg, whatever the server's reason (a bad format gives {error, format} from BEAM's
// servers, {error, {format, Why}} from ours), except terminated and {no_translation, _, _}.
Error device_error(const char* function, const Term& reply) {
    Atom reason = atoms::badarg;
    if (reply.is_tuple(2) && reply[0].is_atom(atoms::error)) {
        const Term& why = reply[1];
        if (why.is_atom(atom("terminated"))) reason = atom("terminated");
        if (why.is_tuple(3) && why[0].is_atom(atom("no_translation"))) reason = atom("no_translation");
    }
    return Error(reason, std::string(function) + " failed: the I/O server answered " + to_string(reply));
}

} // namespace

namespace services {
Result<bool> start_io_server(Node& node) {
    auto pid = node.spawn(user, {.register_name = "user"});
    if (!pid) return pid.error();
    node.impl().default_group_leader = *pid;
    return true;
}
} // namespace services

namespace io {

Task<Result<bool>> put_chars(Self self, std::string_view utf8) {
    auto r = co_await request(self, tuple(atom("put_chars"), atom("unicode"), binary(utf8)));
    if (!r) co_return r.error();
    if (!r->is_atom(atoms::ok)) co_return device_error("io:put_chars", *r);
    co_return true;
}

Task<Result<bool>> format(Self self, std::string_view fmt, Term args) {
    auto r = co_await request(self, tuple(atom("put_chars"), atom("unicode"), atom("io_lib"), atom("format"),
                                          list(string(fmt), args)));
    if (!r) co_return r.error();
    if (!r->is_atom(atoms::ok)) co_return device_error("io:format", *r);
    co_return true;
}

Task<Result<std::string>> get_line(Self self, std::string_view prompt) {
    auto r = co_await request(self, tuple(atom("get_line"), atom("unicode"), string(prompt)));
    if (!r) co_return r.error();
    if (r->is_atom(atom("eof"))) co_return Error(atom("eof"), "end of input");
    if (r->is_binary()) co_return std::string(r->as_binary_view());
    if (r->is_proper_list()) co_return r->as_string();
    co_return Error(atoms::error, "get_line failed: " + to_string(*r));
}

} // namespace io
} // namespace edist

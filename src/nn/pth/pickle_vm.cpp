// The safe pickle machine's opcode loop. Limits on stack, memo, object count and string sizes keep
// a hostile pickle from exhausting memory; unknown opcodes stop the load.
#include "nn/pth/pickle_vm.hpp"

#include <bit>
#include <cstring>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "nn/pth/torch_globals.hpp"

namespace comfydist::nn::pth {

namespace {

constexpr std::size_t max_stack = 1 << 20;
constexpr std::size_t max_memo = 1 << 20;
constexpr std::size_t max_objects = 2'000'000;

class machine {
 public:
  machine(std::string_view data, const std::string& file_name)
      : data_(data), file_name_(file_name) {}

  pickle_result run();

 private:
  [[noreturn]] void fail(const std::string& why) const {
    throw std::invalid_argument("cannot read the pickle in '" + file_name_ + "': " + why +
                                " (at byte " + std::to_string(op_at_) + ")");
  }
  std::string_view take(std::size_t n) {
    if (data_.size() - at_ < n) {
      fail("unexpected end of the pickle");
    }
    const std::string_view bytes = data_.substr(at_, n);
    at_ += n;
    return bytes;
  }
  std::uint64_t take_le(int width) {
    const std::string_view bytes = take(static_cast<std::size_t>(width));
    std::uint64_t value = 0;
    for (int i = width - 1; i >= 0; --i) {
      value = (value << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
    }
    return value;
  }
  std::string take_line() {
    const std::size_t end = data_.find('\n', at_);
    if (end == std::string_view::npos || end - at_ > 256) {
      fail("bad GLOBAL operand");
    }
    std::string line(data_.substr(at_, end - at_));
    at_ = end + 1;
    return line;
  }
  std::size_t make(py_value value) {
    if (result_.objects.size() >= max_objects) {
      fail("too many objects");
    }
    result_.objects.push_back(std::move(value));
    return result_.objects.size() - 1;
  }
  std::size_t make_scalar(py_type type, std::int64_t integer) {
    py_value value;
    value.type = type;
    value.integer = integer;
    return make(std::move(value));
  }
  void push(std::size_t index) {
    if (stack_.size() >= max_stack) {
      fail("stack too deep");
    }
    stack_.push_back(index);
  }
  std::size_t pop() {
    if (stack_.size() <= mark_floor()) {
      fail("stack underflow");
    }
    const std::size_t top = stack_.back();
    stack_.pop_back();
    return top;
  }
  std::size_t top() const {
    if (stack_.size() <= mark_floor()) {
      fail("stack underflow");
    }
    return stack_.back();
  }
  std::size_t mark_floor() const { return marks_.empty() ? 0 : marks_.back(); }
  // Everything above the topmost mark, removing it and the mark.
  std::vector<std::size_t> pop_mark() {
    if (marks_.empty()) {
      fail("no MARK to pop to");
    }
    const std::size_t floor = marks_.back();
    marks_.pop_back();
    std::vector<std::size_t> items(stack_.begin() + static_cast<std::ptrdiff_t>(floor),
                                   stack_.end());
    stack_.resize(floor);
    return items;
  }
  py_value& object(std::size_t index) { return result_.objects[index]; }
  py_value& container(std::size_t index, py_type type, const char* op) {
    py_value& value = object(index);
    if (value.type != type) {
      fail(std::string(op) + " on an object of the wrong type");
    }
    return value;
  }
  void memo_put(std::uint64_t key) {
    if (memo_.size() >= max_memo && !memo_.contains(key)) {
      fail("memo too large");
    }
    memo_[key] = top();
  }
  void memo_get(std::uint64_t key) {
    const auto found = memo_.find(key);
    if (found == memo_.end()) {
      fail("memo key " + std::to_string(key) + " was never stored");
    }
    push(found->second);
  }
  void push_string(std::size_t length) {
    if (length > data_.size() - at_) {
      fail("string runs past the end of the pickle");
    }
    py_value value;
    value.type = py_type::string;
    value.text = std::string(take(length));
    push(make(std::move(value)));
  }
  void push_tuple(std::vector<std::size_t> items) {
    py_value value;
    value.type = py_type::tuple;
    value.items = std::move(items);
    push(make(std::move(value)));
  }
  void push_global(const std::string& module, const std::string& name) {
    check_global(module, name, file_name_);
    py_value value;
    value.type = py_type::global;
    value.text = module + "." + name;
    push(make(std::move(value)));
  }
  bool step();

  std::string_view data_;
  std::string file_name_;
  std::size_t at_ = 0;
  std::size_t op_at_ = 0;
  std::vector<std::size_t> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<std::uint64_t, std::size_t> memo_;
  pickle_result result_;
};

pickle_result machine::run() {
  while (true) {
    if (at_ >= data_.size()) {
      fail("the pickle ends without STOP (truncated?)");
    }
    if (!step()) {
      break;
    }
  }
  result_.root = pop();
  return std::move(result_);
}

// Executes one opcode; false after STOP.
bool machine::step() {
  op_at_ = at_;
  const auto op = static_cast<unsigned char>(take(1)[0]);
  switch (op) {
    case 0x80:  // PROTO
      if (take_le(1) > 5) {
        fail("unknown pickle protocol");
      }
      break;
    case 0x95:  // FRAME: a length hint only
      take_le(8);
      break;
    case '.':  // STOP
      return false;
    case '(':  // MARK
      if (marks_.size() >= max_stack) {
        fail("too many marks");
      }
      marks_.push_back(stack_.size());
      break;
    case '0':  // POP
      if (!marks_.empty() && marks_.back() == stack_.size()) {
        marks_.pop_back();
      } else {
        pop();
      }
      break;
    case '1':  // POP_MARK
      pop_mark();
      break;
    case '2':  // DUP
      push(top());
      break;
    case 'N':
      push(make_scalar(py_type::none, 0));
      break;
    case 0x88:  // NEWTRUE
      push(make_scalar(py_type::boolean, 1));
      break;
    case 0x89:  // NEWFALSE
      push(make_scalar(py_type::boolean, 0));
      break;
    case 'J':  // BININT
      push(make_scalar(py_type::integer, static_cast<std::int32_t>(take_le(4))));
      break;
    case 'K':  // BININT1
      push(make_scalar(py_type::integer, static_cast<std::int64_t>(take_le(1))));
      break;
    case 'M':  // BININT2
      push(make_scalar(py_type::integer, static_cast<std::int64_t>(take_le(2))));
      break;
    case 0x8a: {  // LONG1: little-endian two's complement of n bytes
      const int n = static_cast<int>(take_le(1));
      if (n > 8) {
        fail("integer too large");
      }
      std::uint64_t raw = n == 0 ? 0 : take_le(n);
      if (n > 0 && n < 8 && (raw >> (8 * n - 1)) != 0) {
        raw |= ~std::uint64_t{0} << (8 * n);
      }
      push(make_scalar(py_type::integer, static_cast<std::int64_t>(raw)));
      break;
    }
    case 'G': {  // BINFLOAT: big-endian double
      const std::string_view bytes = take(8);
      std::uint64_t bits = 0;
      for (char c : bytes) {
        bits = (bits << 8) | static_cast<unsigned char>(c);
      }
      py_value value;
      value.type = py_type::floating;
      value.floating = std::bit_cast<double>(bits);
      push(make(std::move(value)));
      break;
    }
    case 'X':  // BINUNICODE
    case 'B':  // BINBYTES
    case 'T':  // BINSTRING
      push_string(static_cast<std::size_t>(take_le(4)));
      break;
    case 0x8c:  // SHORT_BINUNICODE
    case 'C':   // SHORT_BINBYTES
    case 'U':   // SHORT_BINSTRING
      push_string(static_cast<std::size_t>(take_le(1)));
      break;
    case 0x8d:  // BINUNICODE8
    case 0x8e:  // BINBYTES8
      push_string(static_cast<std::size_t>(take_le(8)));
      break;
    case ')':
      push_tuple({});
      break;
    case 't':
      push_tuple(pop_mark());
      break;
    case 0x85: {  // TUPLE1
      const std::size_t a = pop();
      push_tuple({a});
      break;
    }
    case 0x86: {  // TUPLE2
      const std::size_t b = pop();
      const std::size_t a = pop();
      push_tuple({a, b});
      break;
    }
    case 0x87: {  // TUPLE3
      const std::size_t c = pop();
      const std::size_t b = pop();
      const std::size_t a = pop();
      push_tuple({a, b, c});
      break;
    }
    case ']':    // EMPTY_LIST
    case 'l':    // LIST
    case '}':    // EMPTY_DICT
    case 'd': {  // DICT
      py_value value;
      value.type = (op == ']' || op == 'l') ? py_type::list : py_type::dict;
      if (op == 'l' || op == 'd') {
        value.items = pop_mark();
        if (op == 'd' && value.items.size() % 2 != 0) {
          fail("odd number of items for DICT");
        }
      }
      push(make(std::move(value)));
      break;
    }
    case 'a': {  // APPEND
      const std::size_t item = pop();
      container(top(), py_type::list, "APPEND").items.push_back(item);
      break;
    }
    case 'e': {  // APPENDS
      std::vector<std::size_t> items = pop_mark();
      auto& list = container(top(), py_type::list, "APPENDS").items;
      list.insert(list.end(), items.begin(), items.end());
      break;
    }
    case 's': {  // SETITEM
      const std::size_t value = pop();
      const std::size_t key = pop();
      auto& dict = container(top(), py_type::dict, "SETITEM").items;
      dict.push_back(key);
      dict.push_back(value);
      break;
    }
    case 'u': {  // SETITEMS
      std::vector<std::size_t> items = pop_mark();
      if (items.size() % 2 != 0) {
        fail("odd number of items for SETITEMS");
      }
      auto& dict = container(top(), py_type::dict, "SETITEMS").items;
      dict.insert(dict.end(), items.begin(), items.end());
      break;
    }
    case 'c': {  // GLOBAL
      const std::string module = take_line();
      const std::string name = take_line();
      push_global(module, name);
      break;
    }
    case 0x93: {  // STACK_GLOBAL
      const std::size_t name = pop();
      const std::size_t module = pop();
      if (object(name).type != py_type::string || object(module).type != py_type::string) {
        fail("STACK_GLOBAL needs two strings");
      }
      push_global(object(module).text, object(name).text);
      break;
    }
    case 'R': {  // REDUCE
      const std::size_t args = pop();
      const std::size_t callable = pop();
      push(reduce(result_, callable, args, file_name_));
      break;
    }
    case 'b': {  // BUILD: state for an OrderedDict (its _metadata) or a tensor; not needed
      pop();
      const py_type type = object(top()).type;
      if (type != py_type::dict && type != py_type::tensor) {
        fail("BUILD on an unexpected object");
      }
      break;
    }
    case 'Q': {  // BINPERSID
      const std::size_t pid = pop();
      push(persistent_load(result_, pid, file_name_));
      break;
    }
    case 'q':  // BINPUT
      memo_put(take_le(1));
      break;
    case 'r':  // LONG_BINPUT
      memo_put(take_le(4));
      break;
    case 0x94:  // MEMOIZE
      memo_put(memo_.size());
      break;
    case 'h':  // BINGET
      memo_get(take_le(1));
      break;
    case 'j':  // LONG_BINGET
      memo_get(take_le(4));
      break;
    default: {
      static constexpr char hex[] = "0123456789abcdef";
      fail(std::string("unsupported pickle opcode 0x") + hex[op >> 4] + hex[op & 15]);
    }
  }
  return true;
}

}  // namespace

const py_value* pickle_result::dict_get(const py_value& dict, const std::string& key) const {
  if (dict.type != py_type::dict) {
    return nullptr;
  }
  const py_value* found = nullptr;
  // Later assignments win, as in Python.
  for (std::size_t i = 0; i + 1 < dict.items.size(); i += 2) {
    const py_value& k = objects[dict.items[i]];
    if (k.type == py_type::string && k.text == key) {
      found = &objects[dict.items[i + 1]];
    }
  }
  return found;
}

pickle_result run_pickle(std::string_view data, const std::string& file_name) {
  return machine(data, file_name).run();
}

}  // namespace comfydist::nn::pth

// Test support: parses JSON text with Cap'n Proto's JSON codec (an
// independent parser, so tests do not check our writer with itself) and
// looks values up by path.
#pragma once

#include <capnp/compat/json.h>
#include <capnp/message.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace jobtape::testing {

class ParsedJson {
 public:
  // Throws (kj::Exception) when `text` is not JSON.
  explicit ParsedJson(std::string_view text) : message_(std::make_unique<capnp::MallocMessageBuilder>()) {
    capnp::JsonCodec codec;
    auto root = message_->initRoot<capnp::JsonValue>();
    codec.decodeRaw(kj::ArrayPtr<const char>(text.data(), text.size()), root);
  }
  capnp::JsonValue::Reader root() { return message_->getRoot<capnp::JsonValue>().asReader(); }

 private:
  std::unique_ptr<capnp::MallocMessageBuilder> message_;
};

inline bool parsesAsJson(std::string_view text) {
  try {
    ParsedJson parsed(text);
    return true;
  } catch (...) {
    return false;
  }
}

inline std::optional<capnp::JsonValue::Reader> member(capnp::JsonValue::Reader object, std::string_view name) {
  if (object.which() != capnp::JsonValue::OBJECT) return std::nullopt;
  for (auto field : object.getObject()) {
    if (std::string_view(field.getName().cStr()) == name) return field.getValue();
  }
  return std::nullopt;
}

inline std::string stringMember(capnp::JsonValue::Reader object, std::string_view name) {
  auto value = member(object, name);
  if (!value || value->which() != capnp::JsonValue::STRING) {
    throw std::runtime_error("no string member " + std::string(name));
  }
  auto text = value->getString();
  return std::string(text.begin(), text.end());
}

inline double numberMember(capnp::JsonValue::Reader object, std::string_view name) {
  auto value = member(object, name);
  if (!value || value->which() != capnp::JsonValue::NUMBER) {
    throw std::runtime_error("no number member " + std::string(name));
  }
  return value->getNumber();
}

}  // namespace jobtape::testing

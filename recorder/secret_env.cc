#include "recorder/secret_env.h"

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>

namespace jobtape::recorder {

namespace {

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

// AUTH anywhere except as the start of the word AUTHOR(S).
bool hasAuth(const std::string& name) {
  for (size_t at = name.find("AUTH"); at != std::string::npos; at = name.find("AUTH", at + 1)) {
    std::string_view rest = std::string_view(name).substr(at + 4);
    bool author = rest.starts_with("OR") &&
                  (rest.size() == 2 || rest[2] == '_' || (rest[2] == 'S' && (rest.size() == 3 || rest[3] == '_')));
    if (!author) return true;
  }
  return false;
}

bool isSecretVariable(const sandbox::Recipe& recipe, const std::string& name) {
  return isSecretName(name) ||
         std::find(recipe.secretEnv.begin(), recipe.secretEnv.end(), name) != recipe.secretEnv.end();
}

bool isMasked(const sandbox::Recipe& recorded, const sandbox::EnvVar& var) {
  return var.value == kMaskedText && isSecretVariable(recorded, var.name);
}

}  // namespace

bool isSecretName(std::string_view name) {
  std::string n = upper(name);
  for (const char* word : {"TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "API_KEY"}) {
    if (n.find(word) != std::string::npos) return true;
  }
  return hasAuth(n) || n.ends_with("_KEY");
}

std::vector<std::string> secretNames(const sandbox::Recipe& recipe) {
  std::vector<std::string> names;
  for (const auto& var : recipe.env) {
    if (isSecretVariable(recipe, var.name)) names.push_back(var.name);
  }
  return names;
}

std::vector<std::string> secretValues(const sandbox::Recipe& recipe) {
  std::vector<std::string> values;
  for (const auto& var : recipe.env) {
    if (isSecretVariable(recipe, var.name)) values.push_back(var.value);
  }
  return values;
}

SecretMask secretMaskOf(const sandbox::Recipe& recipe) { return SecretMask(secretValues(recipe)); }

sandbox::Recipe maskedRecipe(const sandbox::Recipe& recipe, const SecretMask& mask) {
  sandbox::Recipe masked = recipe;
  for (auto& var : masked.env) {
    var.value = isSecretVariable(recipe, var.name) ? std::string(kMaskedText) : mask.maskText(var.value);
  }
  if (mask.empty()) return masked;
  masked.command = mask.maskText(masked.command);
  for (auto& arg : masked.args) arg = mask.maskText(arg);
  for (auto& var : masked.meta) var.value = mask.maskText(var.value);
  masked.name = mask.maskText(masked.name);
  return masked;
}

std::vector<std::string> maskedNames(const sandbox::Recipe& recorded) {
  std::vector<std::string> names;
  for (const auto& var : recorded.env) {
    if (isMasked(recorded, var)) names.push_back(var.name);
  }
  return names;
}

std::vector<std::string> restoreSecrets(sandbox::Recipe& recipe, const SecretLookup& lookup) {
  std::vector<std::string> missing;
  std::vector<sandbox::EnvVar> env;
  for (auto& var : recipe.env) {
    if (!isMasked(recipe, var)) {
      env.push_back(std::move(var));
    } else if (auto value = lookup(var.name)) {
      env.push_back({var.name, std::move(*value)});
    } else {
      missing.push_back(var.name);
    }
  }
  recipe.env = std::move(env);
  return missing;
}

std::optional<std::string> callerEnv(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

std::string missingSecretWarning(const std::string& name) {
  return fmt::format("warning: {} was recorded masked (a secret) and is not set now; the job runs without it "
                     "(set it in the environment to pass it on)",
                     name);
}

}  // namespace jobtape::recorder

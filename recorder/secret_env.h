// Which of a recipe's variables are secrets, the recipe as it is recorded
// (their values masked), and the way back for retry and debug-shell.
//
// A variable is secret when the recipe lists it in secretEnv or when its
// name says so. The name rule, case-insensitive on the name: it contains
// TOKEN, SECRET, PASSWORD, PASSWD, CREDENTIAL, API_KEY or AUTH, or it ends in
// _KEY. GITHUB_TOKEN, AWS_SECRET_ACCESS_KEY, NPM_AUTH, HTTP_AUTHORIZATION,
// OAUTH_CLIENT_SECRET, DEPLOY_KEY are secret; AUTH as the start of AUTHOR or
// AUTHORS is not (GIT_AUTHOR_NAME is a name, and masking it would mask that
// name in every log), nor are PWD, KEYBOARD or AWS_ACCESS_KEY_ID.
//
// The job gets the real values. The record (the events file's recipe, the
// store's recipe_meta and command line, the recipe hash) has "***" as each
// secret variable's value, and every secret value of kMinLength bytes or more
// masked wherever else it appears in the recipe (argv, other variables, meta,
// the name). Paths (work dir, mounts) are kept as they are: the sandbox is
// rebuilt from them.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "recorder/secret_mask.h"
#include "sandbox/recipe.h"

namespace jobtape::recorder {

bool isSecretName(std::string_view name);

// The recipe's variables that are secret, by name or by secretEnv, in env order.
std::vector<std::string> secretNames(const sandbox::Recipe& recipe);

// The values of those variables, and a mask of them.
std::vector<std::string> secretValues(const sandbox::Recipe& recipe);
SecretMask secretMaskOf(const sandbox::Recipe& recipe);

// The recipe as it is recorded and hashed; `mask` is secretMaskOf(recipe).
// Masking a masked recipe changes nothing, so a retried job that got the
// same secrets back has the same recipe hash, whatever their values.
sandbox::Recipe maskedRecipe(const sandbox::Recipe& recipe, const SecretMask& mask);

// The secret variables of a recorded recipe whose value was masked (recorded
// as "***"), in env order: what `job show` lists as masked.
std::vector<std::string> maskedNames(const sandbox::Recipe& recorded);

// For a recorded recipe about to run again: every secret variable recorded
// as "***" takes the caller's current value (`lookup`); one the caller does
// not have is dropped from env, and its name is returned, for a warning: the
// job runs without it, as it would have run had the caller not set it.
// Values recorded before masking existed are left as they are.
std::vector<std::string> restoreSecrets(sandbox::Recipe& recipe, const SecretLookup& lookup);

// The caller's environment (getenv).
std::optional<std::string> callerEnv(const std::string& name);

// The one line said for each name restoreSecrets returned (no "jobtape: " prefix).
std::string missingSecretWarning(const std::string& name);

}  // namespace jobtape::recorder

#include "recorder/secret_env.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "sandbox/recipe.h"

namespace jobtape::recorder {
namespace {

using ::testing::ElementsAre;

TEST(SecretEnv, NamesThatMarkSecrets) {
  for (const char* name : {"GITHUB_TOKEN", "my_token", "AWS_SECRET_ACCESS_KEY", "DB_PASSWORD", "FTP_PASSWD",
                           "GOOGLE_APPLICATION_CREDENTIALS", "DEPLOY_KEY", "OPENAI_API_KEY", "NPM_AUTH",
                           "HTTP_AUTHORIZATION", "OAUTH_CLIENT", "AUTH", "API_KEY_FILE", "GIT_AUTHTOKEN"}) {
    EXPECT_TRUE(isSecretName(name)) << name;
  }
  for (const char* name : {"PATH", "HOME", "PWD", "OLDPWD", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "AUTHORS",
                           "KEYBOARD", "AWS_ACCESS_KEY_ID", "TERM", "CC"}) {
    EXPECT_FALSE(isSecretName(name)) << name;
  }
}

sandbox::Recipe sample(const std::string& token) {
  sandbox::Recipe recipe;
  recipe.command = "/bin/sh";
  recipe.args = {"-c", "curl -H 'Bearer " + token + "' x"};
  recipe.env = {{"PATH", "/bin"}, {"MY_TOKEN", token}, {"URL", "https://u:" + token + "@host"},
                {"CUSTOM", "custom-value-1"}, {"PIN", "1234"}};
  recipe.secretEnv = {"CUSTOM"};
  return recipe;
}

TEST(SecretEnv, SecretNamesComeFromTheRuleAndFromSecretEnv) {
  EXPECT_THAT(secretNames(sample("hunter2hunter2")), ElementsAre("MY_TOKEN", "CUSTOM"));
}

TEST(SecretEnv, TheMaskedRecipeKeepsNoValue) {
  sandbox::Recipe recipe = sample("hunter2hunter2");
  sandbox::Recipe masked = maskedRecipe(recipe, secretMaskOf(recipe));
  std::string json = sandbox::recipeToJson(masked);
  EXPECT_EQ(json.find("hunter2hunter2"), std::string::npos) << json;
  EXPECT_EQ(json.find("custom-value-1"), std::string::npos) << json;
  EXPECT_EQ(masked.env[1].value, "***");
  EXPECT_EQ(masked.env[2].value, "https://u:***@host");
  EXPECT_EQ(masked.env[3].value, "***");
  EXPECT_EQ(masked.args[1], "curl -H 'Bearer ***' x");
  EXPECT_EQ(masked.env[4].value, "1234");  // PIN: not a secret name
}

TEST(SecretEnv, TheHashDoesNotDependOnSecretValues) {
  sandbox::Recipe one = sample("hunter2hunter2");
  sandbox::Recipe two = sample("another-token-value");
  two.env[3].value = "another-custom";
  std::string hashOne = sandbox::recipeHash(maskedRecipe(one, secretMaskOf(one)));
  EXPECT_EQ(hashOne, sandbox::recipeHash(maskedRecipe(two, secretMaskOf(two))));
  one.env[0].value = "/usr/bin";
  EXPECT_NE(hashOne, sandbox::recipeHash(maskedRecipe(one, secretMaskOf(one))));
}

TEST(SecretEnv, MaskingAMaskedRecipeChangesNothing) {
  sandbox::Recipe recipe = sample("hunter2hunter2");
  sandbox::Recipe masked = maskedRecipe(recipe, secretMaskOf(recipe));
  EXPECT_EQ(maskedRecipe(masked, secretMaskOf(masked)), masked);
}

TEST(SecretEnv, RestoreTakesTheCallersValuesAndNamesTheMissing) {
  sandbox::Recipe recipe = sample("hunter2hunter2");
  sandbox::Recipe masked = maskedRecipe(recipe, secretMaskOf(recipe));
  std::map<std::string, std::string> caller = {{"MY_TOKEN", "fresh-token-value"}, {"PATH", "/elsewhere"}};
  auto missing = restoreSecrets(masked, [&](const std::string& name) -> std::optional<std::string> {
    auto it = caller.find(name);
    if (it == caller.end()) return std::nullopt;
    return it->second;
  });
  EXPECT_THAT(missing, ElementsAre("CUSTOM"));
  ASSERT_EQ(masked.env.size(), 4u);
  EXPECT_EQ(masked.env[0].value, "/bin");  // not a secret: as recorded
  EXPECT_EQ(masked.env[1].value, "fresh-token-value");
  EXPECT_EQ(masked.env[3].name, "PIN");
}

TEST(SecretEnv, ASecretEnvNameMustBeAName) {
  sandbox::Recipe recipe = sample("hunter2hunter2");
  recipe.secretEnv = {"A=B"};
  EXPECT_THROW(sandbox::validateRecipe(recipe), sandbox::RecipeError);
  recipe.secretEnv = {""};
  EXPECT_THROW(sandbox::validateRecipe(recipe), sandbox::RecipeError);
}

}  // namespace
}  // namespace jobtape::recorder

// Conversion between the plain Recipe and its Cap'n Proto form
// (schema::Recipe), used by the events file, the JSON codec and the hash.
#pragma once

#include "sandbox/recipe.capnp.h"
#include "sandbox/recipe.h"

namespace jobtape::sandbox {

void recipeToCapnp(const Recipe& recipe, schema::Recipe::Builder builder);
Recipe recipeFromCapnp(schema::Recipe::Reader reader);

}  // namespace jobtape::sandbox

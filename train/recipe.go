package train

import (
	"fmt"
	"sort"
	"strings"
)

// Recipe is a named set of training settings; the command line's
// --recipe starts from one and explicit flags override its fields.
type Recipe struct {
	Name      string
	BatchSize int
	LR        float64
	Schedule  string  // ParseSchedule form
	Dropout   float64 // drop rate of the fc layer
	Normalize string  // DataOptions.Normalize
	Doc       string
}

// Recipes are the built-in recipes by name.
var Recipes = map[string]Recipe{
	"lecture": {
		Name: "lecture", BatchSize: DefaultBatchSize, LR: DefaultLR, Schedule: "constant", Dropout: 0.25, Normalize: "auto",
		Doc: "the lecture's: Adam at a constant 0.001, batch 128, dropout 0.25",
	},
	"fast": {
		Name: "fast", BatchSize: 128, LR: 0.005, Schedule: "onecycle", Dropout: 0.25, Normalize: "auto",
		Doc: "one-cycle: Adam with the rate rising from 0.0002 to 0.005 over the first 30% of the run and " +
			"falling to 2e-8 by its end (PyTorch's OneCycleLR), batch 128, dropout 0.25; " +
			"same model, loss and data as the lecture (no label smoothing, no augmentation)",
	},
}

// RecipeNames lists Recipes' names, sorted.
func RecipeNames() []string {
	names := make([]string, 0, len(Recipes))
	for n := range Recipes {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// LookupRecipe returns the recipe called name.
func LookupRecipe(name string) (Recipe, error) {
	r, ok := Recipes[name]
	if !ok {
		return r, fmt.Errorf("unknown recipe %q, want one of %s", name, strings.Join(RecipeNames(), ", "))
	}
	return r, nil
}

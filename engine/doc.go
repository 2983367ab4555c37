// Package engine is flow's workflow language: the model, the loader that turns YAML into that
// model keeping every value's position, the checker that types every `${{ expression }}` before
// anything runs, and the executor that runs steps in order and reports events.
//
// The engine knows nothing about AWS or about any particular step: step types reach it through
// the StepType and Catalog interfaces, which package steps implements.
package engine

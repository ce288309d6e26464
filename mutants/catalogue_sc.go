package main

// Part SC (LAB-SC.md).
var partSC = []Mutant{}

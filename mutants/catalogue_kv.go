package main

// Part KV (LAB-KV.md).
var partKV = []Mutant{}

#include <cstdio>
int main() { std::puts("attnscope-cli: under construction"); return 0; }

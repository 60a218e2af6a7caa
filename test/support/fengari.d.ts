// The part of fengari (a Lua 5.3 VM in JavaScript, no types of its own) that the GitOps health
// test uses to run Argo CD's Lua health check: the C API, as in the Lua manual.
declare module 'fengari' {
  namespace fengari {
    interface LuaState {
      readonly __luaState: unique symbol;
    }
    type LuaString = Uint8Array;
  }
  const fengari: {
    to_luastring(text: string): fengari.LuaString;
    lua: {
      readonly LUA_OK: number;
      readonly LUA_TSTRING: number;
      lua_pushnil(L: fengari.LuaState): void;
      lua_pushboolean(L: fengari.LuaState, value: boolean): void;
      lua_pushnumber(L: fengari.LuaState, value: number): void;
      lua_pushstring(L: fengari.LuaState, value: fengari.LuaString): void;
      lua_createtable(L: fengari.LuaState, narr: number, nrec: number): void;
      lua_rawseti(L: fengari.LuaState, index: number, n: number): void;
      lua_setfield(L: fengari.LuaState, index: number, key: fengari.LuaString): void;
      lua_getfield(L: fengari.LuaState, index: number, key: fengari.LuaString): number;
      lua_setglobal(L: fengari.LuaState, name: fengari.LuaString): void;
      lua_pcall(L: fengari.LuaState, nargs: number, nresults: number, msgh: number): number;
      lua_type(L: fengari.LuaState, index: number): number;
      lua_tojsstring(L: fengari.LuaState, index: number): string;
      lua_pop(L: fengari.LuaState, n: number): void;
    };
    lauxlib: {
      luaL_newstate(): fengari.LuaState;
      luaL_loadstring(L: fengari.LuaState, code: fengari.LuaString): number;
    };
    lualib: {
      luaL_openlibs(L: fengari.LuaState): void;
    };
  };
  export default fengari;
}

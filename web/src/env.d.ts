// Types Vite adds to the build (import.meta.env, asset and ?raw imports).
/// <reference types="vite/client" />

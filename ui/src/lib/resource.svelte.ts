// Data a screen loads from the backend, with its state: loading, ready or failed.
export class Resource<T> {
  status = $state<'loading' | 'ready' | 'error'>('loading');
  data = $state<T | undefined>(undefined);
  error = $state<unknown>(null);
  readonly #loader: () => Promise<T>;

  constructor(loader: () => Promise<T>) {
    this.#loader = loader;
  }

  async load(): Promise<void> {
    this.status = 'loading';
    try {
      this.data = await this.#loader();
      this.status = 'ready';
    } catch (error) {
      this.error = error;
      this.status = 'error';
    }
  }

  /** Reloads without going back to the loading state (after a change). */
  async refresh(): Promise<void> {
    try {
      this.data = await this.#loader();
      this.status = 'ready';
    } catch (error) {
      this.error = error;
      this.status = 'error';
    }
  }
}

